using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>Unary <c>-value</c> (and <c>+value</c>, which checks for a number).</summary>
internal sealed class NegateExpression(SourceLocation location, Expression operand, bool negate) : Expression(location)
{
    public override object? Evaluate(RenderContext context)
    {
        var value = operand.Evaluate(context);
        context.Location = Location;
        if (negate)
            return PyArithmetic.Negate(value);
        return value is long or double or bool ? value : throw new TemplateRuntimeException($"bad operand type for unary +: {PyTypes.Name(value)}", "+", Location);
    }
}
