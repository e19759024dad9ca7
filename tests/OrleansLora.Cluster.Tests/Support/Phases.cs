namespace OrleansLora.Cluster.Tests.Support;

/// <summary>Waits of the multi-process tests, whose timeouts say which phase and what was awaited.</summary>
public static class Phases
{
    public static async Task WaitUntil(Func<Task<bool>> condition, TimeSpan timeout, string phase, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"phase \"{phase}\": timed out after {timeout.TotalSeconds:F0} s waiting for {what}.");
            await Task.Delay(250);
        }
    }
}
