namespace OrleansLora.Errors;

/// <summary>
/// The adapter store refused an adapter source (a path that leaves the store's root, for example through a
/// symbolic link): found out on a worker, which has the store; the gateway reports it against the field that named the source.
/// </summary>
[GenerateSerializer]
public sealed class AdapterSourceRefusedException(string message) : OrleansLoraException(message);
