namespace OrleansLora.Server.Http.Health;

/// <summary>What <see cref="SiloReadiness"/> found: ready or not, the fresh devices this silo knows of, and why not (an error code and message).</summary>
public sealed record ReadinessReport(bool Ready, int Devices, string? Code, string? Reason);
