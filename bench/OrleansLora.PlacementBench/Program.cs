using System.Globalization;
using System.Text.Json.Nodes;
using OrleansLora.Bench;
using OrleansLora.Engine.Native;
using OrleansLora.PlacementBench;

// Placement under Zipf traffic (issue 13 item 4): busiest ÷ mean request load per worker, placed by the real
// DeviceLoadView and rebalanced by the real RebalancePlan on a simulated clock, for the placement before issue 13
// ("count": slots only, nothing moves) and now ("load"), steady and after a worker joins. Mean and worst over seeds.
int workers = 3, adapters = 60, seeds = 20;
double zipf = 1.0, steadySeconds = 120, afterJoinSeconds = 60;
string? json = null;
bool probe = true;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--workers": workers = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--adapters": adapters = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seeds": seeds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--zipf": zipf = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--steady": steadySeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--after-join": afterJoinSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--json": json = Next(); break;
        case "--no-probe": probe = false; break;
        default:
            Console.Error.WriteLine($"placement bench: unknown argument {args[i]}; use --workers N --adapters N --seeds N --zipf S --steady SECONDS --after-join SECONDS --json FILE --no-probe");
            return 2;
    }
}

var report = new BenchReport();
report.Machine["cpu"] = MachineProbe.CpuModel();
report.Machine["cores_used"] = 1;
report.Machine["device"] = "none (simulated cluster)";
if (probe)
{
    NativeRuntime.EnsureInitialized();
    report.Machine["read_gbps"] = Math.Round(MachineProbe.ReadBandwidthGbps(), 2);
    report.Machine["gemm_gflops"] = Math.Round(MachineProbe.GemmGflops(), 1);
}

var figures = new Dictionary<string, (double Steady, double Join)>();
foreach (var policy in new[] { PlacementPolicy.Count, PlacementPolicy.LoadPlacementOnly, PlacementPolicy.Load })
{
    var runs = Enumerable.Range(1, seeds)
        .Select(seed => new Simulation(workers, adapters, zipf, seed, policy).Run(TimeSpan.FromSeconds(steadySeconds), TimeSpan.FromSeconds(afterJoinSeconds)))
        .ToList();
    figures[policy.Name] = (runs.Average(r => r.SteadyRatio), runs.Average(r => r.JoinRatio));
    Dictionary<string, JsonNode?> Common() => new()
    {
        ["policy"] = policy.Name, ["workers"] = workers, ["adapters"] = adapters, ["zipf_s"] = zipf, ["seeds"] = seeds,
    };
    var steady = Common();
    steady["seconds"] = steadySeconds;
    steady["busiest_over_mean"] = Math.Round(runs.Average(r => r.SteadyRatio), 3);
    steady["busiest_over_mean_worst"] = Math.Round(runs.Max(r => r.SteadyRatio), 3);
    report.Add($"placement-zipf-{workers}x{adapters}-steady", steady);
    var joined = Common();
    joined["seconds_after_join"] = afterJoinSeconds;
    joined["busiest_over_mean"] = Math.Round(runs.Average(r => r.JoinRatio), 3);
    joined["busiest_over_mean_worst"] = Math.Round(runs.Max(r => r.JoinRatio), 3);
    joined["moves_per_run"] = Math.Round(runs.Average(r => r.Moves), 1);
    joined["adapters_moved_to_joined_per_run"] = Math.Round(runs.Average(r => r.MovedToJoined), 1);
    report.Add($"placement-zipf-{workers}x{adapters}-join", joined);
}
report.Add($"ratio:placement-zipf-{workers}x{adapters}-steady/load/count", new Dictionary<string, JsonNode?> { ["busiest_over_mean"] = Math.Round(figures["load"].Steady / figures["count"].Steady, 3) });
report.Add($"ratio:placement-zipf-{workers}x{adapters}-join/load/count", new Dictionary<string, JsonNode?> { ["busiest_over_mean"] = Math.Round(figures["load"].Join / figures["count"].Join, 3) });
if (json is not null)
    report.Write(json, "dotnet run --project bench/OrleansLora.PlacementBench -c Release -- " + string.Join(' ', args));
return 0;
