using OrleansLora.Engine.Tokenization.Jinja.Ast;
using OrleansLora.Engine.Tokenization.Jinja.Lexing;
using OrleansLora.Engine.Tokenization.Jinja.Library;
using OrleansLora.Engine.Tokenization.Jinja.Parsing;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja;

/// <summary>
/// A parsed Jinja2 template, rendered the way transformers renders chat templates: jinja2's
/// ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and loopcontrols, its default
/// Undefined, and transformers' <c>tojson</c>, <c>raise_exception</c> and <c>strftime_now</c>.
/// Parse once, render many times: the instance is immutable and thread-safe; each render has its
/// own state and is bounded by <see cref="JinjaLimits"/>.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Statement> _body;

    private JinjaTemplate(string source, IReadOnlyList<Statement> body)
    {
        Source = source;
        _body = body;
    }

    public string Source { get; }

    /// <exception cref="TemplateSyntaxException">The text is not valid Jinja, or uses a tag, filter or test this engine lacks.</exception>
    public static JinjaTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var (tokens, _) = Lexer.Tokenize(Lexer.Normalize(source));
        return new JinjaTemplate(source, Parser.Parse(tokens));
    }

    /// <summary>
    /// Renders with <paramref name="variables"/> as the template's context. Values are converted by
    /// <see cref="TemplateValues.From"/>: strings, numbers, booleans, null (None), lists, dictionaries,
    /// <see cref="System.Text.Json.JsonElement"/>s and <see cref="System.Text.Json.Nodes.JsonNode"/>s.
    /// </summary>
    /// <exception cref="TemplateRuntimeException">Rendering failed (<see cref="TemplateRaisedException"/> when the template refused the input).</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables, JinjaLimits? limits = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var globals = new Scope(null);
        foreach (var (name, value) in Globals.All)
            globals.Set(name, value);
        var root = new Scope(globals);
        foreach (var (name, value) in variables)
            root.Set(name, TemplateValues.From(value));
        var context = new RenderContext(root, limits ?? JinjaLimits.Default, clock ?? TimeProvider.System);
        try
        {
            Statement.Run(_body, context);
        }
        catch (TemplateRuntimeException e)
        {
            throw e.At(context.Location);
        }
        catch (InsufficientExecutionStackException e)
        {
            throw new TemplateRuntimeException("the template nests values or calls too deeply", "nesting", context.Location, e);
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or ArgumentException or IndexOutOfRangeException)
        {
            // A gap in this engine's checks; still an error about this template, never a crash.
            throw new TemplateRuntimeException(e.Message, null, context.Location, e);
        }
        return context.Output;
    }
}
