using OrleansLora.Engine.Tokenization.Jinja;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// A conversation the chat template cannot render: the template refused it (its raise_exception,
/// e.g. roles that do not alternate), failed on it, or the model has no template. An
/// <see cref="ArgumentException"/> about the messages, so request validation reports it as a bad request.
/// </summary>
public sealed class ChatTemplateException : ArgumentException
{
    private readonly string _message;

    public ChatTemplateException(string message, TemplateException? inner = null)
        : base(message, "messages", inner)
    {
        _message = message;
    }

    /// <summary>The message without ArgumentException's "(Parameter 'messages')" suffix: it reaches clients as is.</summary>
    public override string Message => _message;
}
