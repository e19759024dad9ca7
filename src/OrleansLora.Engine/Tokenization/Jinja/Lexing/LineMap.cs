namespace OrleansLora.Engine.Tokenization.Jinja.Lexing;

/// <summary>Turns an offset into the (normalised) source into a line and column.</summary>
internal sealed class LineMap
{
    private readonly List<int> _lineStarts = [0];

    public LineMap(string source)
    {
        for (int i = 0; i < source.Length; i++)
        {
            if (source[i] == '\n')
                _lineStarts.Add(i + 1);
        }
    }

    public SourceLocation At(int offset)
    {
        int line = _lineStarts.BinarySearch(offset);
        if (line < 0)
            line = ~line - 1;
        return new SourceLocation(line + 1, offset - _lineStarts[line] + 1);
    }
}
