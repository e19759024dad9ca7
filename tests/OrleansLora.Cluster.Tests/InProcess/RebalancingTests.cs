using OrleansLora.Client;
using OrleansLora.Cluster.Tests.Support;
using OrleansLora.Generation;

namespace OrleansLora.Cluster.Tests.InProcess;

/// <summary>Rebalancing by measured request load: a worker that joins receives adapters that were already active.</summary>
public sealed class RebalancingTests(RebalancingClusterFixture fixture) : IClassFixture<RebalancingClusterFixture>
{
    private const int Adapters = 8;

    [Fact]
    public async Task AWorkerThatJoinsReceivesActiveAdaptersWhileTheyKeepServing()
    {
        var client = new OrleansLoraClient(fixture.Client);
        string[] ids = [.. Enumerable.Range(0, Adapters).Select(TestFiles.AdapterId)];
        var before = await Task.WhenAll(ids.Select(id => client.DescribeAdapterAsync(id)));
        var oldSilos = before.Select(d => d.Silo!).ToHashSet();

        // Steady traffic on every adapter, before and after the join.
        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        int served = 0;
        var traffic = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var request = new GenerateRequest { Prompt = "Hello", MaxTokens = 2, Temperature = 0, IgnoreEos = true };
            for (int i = worker; !stop.IsCancellationRequested; i += 4)
            {
                try
                {
                    var result = await client.GenerateAsync(ids[i % Adapters], request);
                    if (result.Usage.CompletionTokens == 2)
                        Interlocked.Increment(ref served);
                }
                catch (Exception ex)
                {
                    lock (failures)
                        failures.Add($"{ids[i % Adapters]}: {ex.GetType().Name}: {ex.Message}");
                }
            }
        })).ToList();

        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3)); // a few publishes with measured load
            var joined = await fixture.Cluster.StartAdditionalSiloAsync();
            string joinedSilo = joined.SiloAddress.ToParsableString();
            await fixture.WaitForDevices(3);

            var moved = new List<string>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (moved.Count < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
                var now = await Task.WhenAll(ids.Select(id => client.DescribeAdapterAsync(id)));
                moved = [.. now.Where(d => d.Silo == joinedSilo).Select(d => d.AdapterId)];
            }
            var loads = string.Join("; ", fixture.Loads().Select(l => $"{l.Key}: {l.RequestsPerSecond:F1} req/s, {l.CachedAdapters.Count} adapters"));
            Assert.True(moved.Count >= 2, $"within 90 s of joining, {moved.Count} of the {Adapters} active adapters moved to the new worker {joinedSilo} (loads: {loads})");
            Assert.DoesNotContain(joinedSilo, oldSilos);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(traffic);
        }
        Assert.True(failures.Count == 0, $"requests failed during rebalancing: {string.Join(" | ", failures.Take(5))}");
        Assert.True(served > 0);
    }
}
