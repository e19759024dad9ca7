namespace OrleansLora.Engine.Tokenization.Jinja;

/// <summary>
/// Rendering failed: an undefined value used, a type error, a forbidden attribute, a limit exceeded,
/// or the template's own <c>raise_exception</c> (<see cref="TemplateRaisedException"/>).
/// </summary>
public class TemplateRuntimeException : TemplateException
{
    public TemplateRuntimeException(string message, string? construct = null, SourceLocation? location = null, Exception? inner = null)
        : base(message, construct, location, inner)
    {
    }

    /// <summary>
    /// The template uses something jinja2 has but this engine does not implement (a Python method,
    /// a strftime directive): a gap to report when a model loads, not a fault of the conversation.
    /// </summary>
    public bool IsUnsupported { get; init; }

    /// <summary>The same error at <paramref name="location"/> (errors raised by value operations learn it late).</summary>
    internal virtual TemplateRuntimeException At(SourceLocation location) =>
        Location is null ? new TemplateRuntimeException(Detail, Construct, location, InnerException) { IsUnsupported = IsUnsupported } : this;
}
