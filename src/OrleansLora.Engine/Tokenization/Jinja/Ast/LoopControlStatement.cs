using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>{% break %}</c> or <c>{% continue %}</c>; the parser allows them only inside a loop.</summary>
internal sealed class LoopControlStatement(SourceLocation location, Flow flow) : Statement(location)
{
    public override Flow Execute(RenderContext context) => flow;
}
