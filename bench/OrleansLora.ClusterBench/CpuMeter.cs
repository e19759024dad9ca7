using System.Diagnostics;

namespace OrleansLora.ClusterBench;

/// <summary>
/// Processor time used by this process and by the server child, sampled around each round: it shows where the
/// extra work of a path runs (client side, server side) independently of how busy the shared machine was.
/// </summary>
internal sealed class CpuMeter(Func<TimeSpan>? server)
{
    private readonly Process _self = Process.GetCurrentProcess();

    public (double Bench, double Server) Sample()
    {
        _self.Refresh();
        return (_self.TotalProcessorTime.TotalSeconds, server?.Invoke().TotalSeconds ?? 0);
    }
}
