using System.Text;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>a ~ b ~ c</c>: the operands' str() joined (an undefined operand adds nothing).</summary>
internal sealed class ConcatExpression(SourceLocation location, IReadOnlyList<Expression> operands) : Expression(location)
{
    public override object? Evaluate(RenderContext context)
    {
        var text = new StringBuilder();
        foreach (var operand in operands)
        {
            text.Append(PyString.Str(operand.Evaluate(context)));
            context.Location = Location;
            context.CheckSize(text.Length, "~");
        }
        return text.ToString();
    }
}
