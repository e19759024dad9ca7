using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>a == b</c>, <c>a &lt; b &lt;= c</c> (chained as in Python), <c>a in b</c>, <c>a not in b</c>.</summary>
internal sealed class CompareExpression(SourceLocation location, Expression first, IReadOnlyList<(string Op, Expression Operand)> rest) : Expression(location)
{
    public override object? Evaluate(RenderContext context)
    {
        var left = first.Evaluate(context);
        foreach (var (op, operand) in rest)
        {
            var right = operand.Evaluate(context);
            context.Location = Location;
            bool holds = op switch
            {
                "==" => PyOps.Equal(left, right),
                "!=" => !PyOps.Equal(left, right),
                "in" => PyOps.Contains(right, left),
                "notin" => !PyOps.Contains(right, left),
                _ => PyOps.Ordered(left, right, op),
            };
            if (!holds)
                return false;
            left = right;
        }
        return true;
    }
}
