namespace OrleansLora.Engine.Tokenization.Jinja;

/// <summary>The template called <c>raise_exception(message)</c>: it refuses the input (e.g. roles that do not alternate).</summary>
public sealed class TemplateRaisedException(string message, SourceLocation? location = null)
    : TemplateRuntimeException(message, "raise_exception", location)
{
    internal override TemplateRuntimeException At(SourceLocation location) =>
        Location is null ? new TemplateRaisedException(Detail, location) : this;
}
