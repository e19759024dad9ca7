using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary><c>{'key': value, …}</c>.</summary>
internal sealed class DictExpression(SourceLocation location, IReadOnlyList<(Expression Key, Expression Value)> entries) : Expression(location)
{
    public override object? Evaluate(RenderContext context)
    {
        var dict = new PyDict(entries.Count);
        foreach (var (key, value) in entries)
        {
            var k = key.Evaluate(context);
            context.Location = Location;
            if (k is null or Undefined or List<object?> or PyDict)
                throw new TemplateRuntimeException($"unhashable or unsupported dict key of type {PyTypes.Name(k)}", "dict", Location);
            dict[k] = value.Evaluate(context);
        }
        return dict;
    }
}
