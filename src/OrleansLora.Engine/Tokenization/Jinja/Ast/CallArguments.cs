using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>The argument expressions of a call, filter or test: positional, then <c>name=value</c>.</summary>
internal sealed class CallArguments(IReadOnlyList<Expression> positional, IReadOnlyList<KeyValuePair<string, Expression>> keywords)
{
    public static CallArguments Empty { get; } = new([], []);

    public int Count => positional.Count + keywords.Count;

    public Arguments Evaluate(RenderContext context)
    {
        if (Count == 0)
            return Arguments.None;
        var values = new object?[positional.Count];
        for (int i = 0; i < values.Length; i++)
            values[i] = positional[i].Evaluate(context);
        List<KeyValuePair<string, object?>>? named = null;
        if (keywords.Count > 0)
        {
            named = new List<KeyValuePair<string, object?>>(keywords.Count);
            foreach (var (key, expression) in keywords)
                named.Add(new(key, expression.Evaluate(context)));
        }
        return new Arguments(values, named);
    }
}
