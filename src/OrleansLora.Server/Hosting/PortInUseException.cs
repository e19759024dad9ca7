namespace OrleansLora.Server.Hosting;

/// <summary>
/// A port this silo must listen on is taken by another process (another silo given the same port, usually).
/// An <see cref="ArgumentException"/> naming the option, so start-up reports it as a configuration error.
/// </summary>
public sealed class PortInUseException(string option, System.Net.IPEndPoint endpoint, string detail)
    : ArgumentException($"{option} {endpoint.Port} on {endpoint.Address} is already in use by another process ({detail}); give this silo another port.", option);
