namespace OrleansLora.Server.Tests.Support;

/// <summary>
/// A server with API keys and an admin key, and an engine that runs one sequence at a time with room for one
/// waiting request: the third concurrent request is refused with 429, deterministically.
/// </summary>
public sealed class LimitedGatewayFixture : GatewayFixture
{
    public const string UserKey = "user-key-1";
    public const string AdminKey = "admin-key-1";

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"--OrleansLora:Gateway:ApiKeys:0={UserKey}",
        $"--OrleansLora:Gateway:AdminKeys:0={AdminKey}",
        "--OrleansLora:Engine:MaxBatchSize=1",
        "--OrleansLora:Engine:MaxQueuedRequests=1",
    ];
}
