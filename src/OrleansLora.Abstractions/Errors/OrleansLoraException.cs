namespace OrleansLora.Errors;

/// <summary>
/// Base of the errors a caller of the grains can act on; each maps to one HTTP status in the gateway.
/// They travel through Orleans with their message (and parameter name where there is one).
/// </summary>
[GenerateSerializer]
public abstract class OrleansLoraException : Exception
{
    protected OrleansLoraException(string message) : base(message)
    {
    }

    protected OrleansLoraException(string message, Exception? inner) : base(message, inner)
    {
    }
}
