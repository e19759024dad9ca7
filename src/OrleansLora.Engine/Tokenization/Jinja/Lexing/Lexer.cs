using System.Globalization;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Lexing;

/// <summary>
/// Splits a template into text and tag tokens with jinja2's whitespace rules as transformers
/// configures them: newlines normalised to \n and one trailing newline dropped; <c>{%-</c> / <c>-%}</c>
/// strip all whitespace before / after a tag; trim_blocks drops the newline after a block or
/// comment tag; lstrip_blocks drops the indentation before one (<c>{%+</c> keeps it). Comments are
/// dropped, <c>{% raw %}</c> bodies become text.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"];

    private readonly string _source;
    private readonly LineMap _lines;
    private readonly List<Token> _tokens = [];
    private int _pos;
    private bool _lineStarting = true;

    private Lexer(string source)
    {
        _source = source;
        _lines = new LineMap(source);
    }

    /// <summary>The source as jinja2 sees it: \r\n and \r become \n, and one trailing newline is dropped.</summary>
    public static string Normalize(string source)
    {
        string text = source.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        return text.EndsWith('\n') ? text[..^1] : text;
    }

    public static (List<Token> Tokens, LineMap Lines) Tokenize(string normalizedSource)
    {
        var lexer = new Lexer(normalizedSource);
        lexer.Run();
        return (lexer._tokens, lexer._lines);
    }

    private void Run()
    {
        while (_pos < _source.Length)
        {
            int tag = NextTagStart(_pos);
            if (tag < 0)
            {
                AddData(_pos, _source[_pos..]);
                break;
            }
            char kind = _source[tag + 1];
            char sign = tag + 2 < _source.Length && _source[tag + 2] is '-' or '+' ? _source[tag + 2] : '\0';
            string text = _source[_pos..tag];
            int rawBodyStart = -1;
            bool isRaw = kind == '%' && IsRawAt(tag, out rawBodyStart);
            text = StripBefore(text, sign, kind != '{');
            AddData(_pos, text);
            int afterOpen = tag + 2 + (sign == '\0' ? 0 : 1);
            if (isRaw)
                ReadRaw(tag, rawBodyStart);
            else if (kind == '#')
                SkipComment(tag, afterOpen);
            else
                ReadTag(tag, afterOpen, kind == '{');
        }
        _tokens.Add(new Token(TokenKind.End, "", _lines.At(_source.Length)));
    }

    private int NextTagStart(int from)
    {
        for (int i = _source.IndexOf('{', from); i >= 0 && i + 1 < _source.Length; i = _source.IndexOf('{', i + 1))
        {
            if (_source[i + 1] is '{' or '%' or '#')
                return i;
        }
        return -1;
    }

    /// <summary>Whitespace control on the text before a tag: "-" strips it all, lstrip_blocks the indentation of a block or comment tag.</summary>
    private string StripBefore(string text, char sign, bool isBlockOrComment)
    {
        if (sign == '-')
            return PyString.Strip(text, null, false, true);
        if (sign == '+' || !isBlockOrComment)
            return text;
        int lineStart = text.LastIndexOf('\n') + 1;
        if ((lineStart > 0 || _lineStarting) && lineStart < text.Length && IsAllSpace(text, lineStart))
            return text[..lineStart];
        return text;
    }

    private static bool IsAllSpace(string text, int from)
    {
        for (int i = from; i < text.Length; i++)
        {
            if (!PyString.IsSpace(text[i]))
                return false;
        }
        return true;
    }

    private void AddData(int at, string text)
    {
        if (text.Length > 0)
            _tokens.Add(new Token(TokenKind.Data, text, _lines.At(at)));
    }

    private void ReadTag(int tag, int pos, bool variable)
    {
        _tokens.Add(new Token(variable ? TokenKind.VariableBegin : TokenKind.BlockBegin, variable ? "{{" : "{%", _lines.At(tag)));
        int depth = 0;
        while (true)
        {
            while (pos < _source.Length && PyString.IsSpace(_source[pos]))
                pos++;
            if (pos >= _source.Length)
                throw Error(tag, variable ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'", variable ? "{{" : "{%");
            if (depth == 0 && TryReadTagEnd(ref pos, variable))
            {
                _pos = pos;
                return;
            }
            pos = ReadToken(pos, ref depth);
        }
    }

    private bool TryReadTagEnd(ref int pos, bool variable)
    {
        char close = variable ? '}' : '%';
        int at = pos;
        char sign = _source[pos] is '-' or '+' ? _source[pos] : '\0';
        int p = pos + (sign == '\0' ? 0 : 1);
        if (p + 1 >= _source.Length || _source[p] != close || _source[p + 1] != '}')
            return false;
        if (variable && sign == '+')
            return false;
        p += 2;
        if (sign == '-')
        {
            while (p < _source.Length && PyString.IsSpace(_source[p]))
                p++;
        }
        else if (!variable && sign != '+' && p < _source.Length && _source[p] == '\n')
        {
            p++; // trim_blocks
        }
        _tokens.Add(new Token(variable ? TokenKind.VariableEnd : TokenKind.BlockEnd, variable ? "}}" : "%}", _lines.At(at)));
        _lineStarting = _source[p - 1] == '\n';
        pos = p;
        return true;
    }

    private int ReadToken(int pos, ref int depth)
    {
        char c = _source[pos];
        var at = _lines.At(pos);
        if (c is '\'' or '"')
        {
            int end = pos + 1;
            while (end < _source.Length && _source[end] != c)
                end += _source[end] == '\\' ? 2 : 1;
            if (end >= _source.Length)
                throw Error(pos, "unterminated string", "string");
            try
            {
                _tokens.Add(new Token(TokenKind.String, StringLiteral.Decode(_source.AsSpan(pos + 1, end - pos - 1)), at));
            }
            catch (FormatException e)
            {
                throw Error(pos, e.Message, "string");
            }
            return end + 1;
        }
        if (char.IsAsciiDigit(c))
            return ReadNumber(pos);
        if (char.IsLetter(c) || c == '_')
        {
            int end = pos + 1;
            while (end < _source.Length && (char.IsLetterOrDigit(_source[end]) || _source[end] == '_'))
                end++;
            _tokens.Add(new Token(TokenKind.Name, _source[pos..end], at));
            return end;
        }
        foreach (string op in Operators)
        {
            if (string.CompareOrdinal(_source, pos, op, 0, op.Length) != 0)
                continue;
            if (op is "(" or "[" or "{")
                depth++;
            else if (op is ")" or "]" or "}")
                depth = depth > 0 ? depth - 1 : throw Error(pos, $"unexpected '{op}'", op);
            _tokens.Add(new Token(TokenKind.Operator, op, at));
            return pos + op.Length;
        }
        throw Error(pos, $"unexpected character '{c}'", c.ToString());
    }

    private int ReadNumber(int pos)
    {
        int end = pos;
        bool isFloat = false;
        if (_source[pos] == '0' && pos + 1 < _source.Length && char.ToLowerInvariant(_source[pos + 1]) is 'x' or 'o' or 'b')
        {
            end = pos + 2;
            while (end < _source.Length && (char.IsAsciiHexDigit(_source[end]) || _source[end] == '_'))
                end++;
        }
        else
        {
            end = SkipDigits(end);
            if (end + 1 < _source.Length && _source[end] == '.' && char.IsAsciiDigit(_source[end + 1]))
            {
                isFloat = true;
                end = SkipDigits(end + 1);
            }
            if (end < _source.Length && _source[end] is 'e' or 'E')
            {
                int p = end + 1;
                if (p < _source.Length && _source[p] is '+' or '-')
                    p++;
                if (p < _source.Length && char.IsAsciiDigit(_source[p]))
                {
                    isFloat = true;
                    end = SkipDigits(p);
                }
            }
        }
        string text = _source[pos..end].Replace("_", "", StringComparison.Ordinal);
        object? value = isFloat
            ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : null
            : ParseInteger(text);
        if (value is null)
            throw Error(pos, $"invalid number '{_source[pos..end]}'", "number");
        _tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, _source[pos..end], _lines.At(pos), value));
        return end;
    }

    private int SkipDigits(int from)
    {
        while (from < _source.Length && (char.IsAsciiDigit(_source[from]) || _source[from] == '_'))
            from++;
        return from;
    }

    private static object? ParseInteger(string text)
    {
        try
        {
            if (text.Length > 2 && text[0] == '0' && char.ToLowerInvariant(text[1]) is 'x' or 'o' or 'b')
                return Convert.ToInt64(text[2..], char.ToLowerInvariant(text[1]) switch { 'x' => 16, 'o' => 8, _ => 2 });
            if (text.Length > 1 && text[0] == '0' && text.Any(ch => ch != '0'))
                return null; // Python rejects leading zeros
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long l) ? l : null;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            return null;
        }
    }

    private void SkipComment(int tag, int pos)
    {
        int close = _source.IndexOf("#}", pos, StringComparison.Ordinal);
        if (close < 0)
            throw Error(tag, "unterminated comment", "comment");
        int p = close + 2;
        if (close > pos && _source[close - 1] == '-')
        {
            while (p < _source.Length && PyString.IsSpace(_source[p]))
                p++;
        }
        else if (p < _source.Length && _source[p] == '\n' && !(close > pos && _source[close - 1] == '+'))
        {
            p++; // trim_blocks
        }
        _lineStarting = _source[p - 1] == '\n';
        _pos = p;
    }

    /// <summary>Whether <c>{% raw %}</c> (with optional - or +) starts at <paramref name="tag"/>; where its body starts.</summary>
    private bool IsRawAt(int tag, out int bodyStart)
    {
        bodyStart = -1;
        int p = tag + 2;
        if (p < _source.Length && _source[p] is '-' or '+')
            p++;
        while (p < _source.Length && PyString.IsSpace(_source[p]))
            p++;
        if (string.CompareOrdinal(_source, p, "raw", 0, 3) != 0)
            return false;
        p += 3;
        while (p < _source.Length && PyString.IsSpace(_source[p]))
            p++;
        if (p + 2 <= _source.Length && _source[p] == '-' && string.CompareOrdinal(_source, p + 1, "%}", 0, 2) == 0)
        {
            p += 3;
            while (p < _source.Length && PyString.IsSpace(_source[p]))
                p++;
        }
        else if (string.CompareOrdinal(_source, p, "%}", 0, 2) == 0)
        {
            p += 2;
        }
        else
        {
            return false;
        }
        bodyStart = p;
        return true;
    }

    private void ReadRaw(int tag, int bodyStart)
    {
        for (int search = bodyStart; ; search++)
        {
            int open = _source.IndexOf("{%", search, StringComparison.Ordinal);
            if (open < 0)
                throw Error(tag, "missing end of raw directive", "raw");
            int p = open + 2;
            char sign = p < _source.Length && _source[p] is '-' or '+' ? _source[p] : '\0';
            if (sign != '\0')
                p++;
            while (p < _source.Length && PyString.IsSpace(_source[p]))
                p++;
            if (string.CompareOrdinal(_source, p, "endraw", 0, 6) != 0)
                continue;
            string body = _source[bodyStart..open];
            AddData(bodyStart, sign == '-' ? PyString.Strip(body, null, false, true) : body);
            _pos = p + 6;
            while (_pos < _source.Length && PyString.IsSpace(_source[_pos]))
                _pos++;
            if (!TryReadTagEnd(ref _pos, variable: false))
                throw Error(open, "expected '%}' after endraw", "raw");
            _tokens.RemoveAt(_tokens.Count - 1); // the BlockEnd of endraw
            return;
        }
    }

    private TemplateSyntaxException Error(int offset, string message, string construct) =>
        new(message, construct, _lines.At(offset));
}
