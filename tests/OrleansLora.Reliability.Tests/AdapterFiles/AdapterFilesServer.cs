using OrleansLora.Reliability.Tests.Support;

namespace OrleansLora.Reliability.Tests.AdapterFiles;

/// <summary>
/// The keyed server the adapter-file tests attack (the keys of <see cref="HostileGatewayFixture"/>), with
/// the adapter read deadline lowered to 10 s, so a reader that blocked would surface as a refusal well
/// within the tests' own deadline per request.
/// </summary>
public sealed class AdapterFilesServer : GatewayFixture
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    public const string UserKey = HostileGatewayFixture.UserKey;
    public const string AdminKey = HostileGatewayFixture.AdminKey;

    protected override IEnumerable<string> ExtraArguments =>
    [
        $"--OrleansLora:Gateway:ApiKeys:0={UserKey}",
        $"--OrleansLora:Gateway:AdminKeys:0={AdminKey}",
        $"--OrleansLora:AdapterStore:ReadTimeout={ReadTimeout:c}",
    ];

    /// <summary>A directory beside the adapter store (outside it), for the targets of escaping links.</summary>
    public string Outside => Path.Combine(DataDirectory, "outside");
}
