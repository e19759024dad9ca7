using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>
/// transformers' <c>{% generation %}…{% endgeneration %}</c>: marks the assistant's tokens for
/// training masks; for rendering it is its body.
/// </summary>
internal sealed class GenerationStatement(SourceLocation location, IReadOnlyList<Statement> body) : Statement(location)
{
    public override Flow Execute(RenderContext context) => Run(body, context);
}
