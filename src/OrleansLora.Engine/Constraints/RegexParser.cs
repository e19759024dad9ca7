using System.Globalization;

namespace OrleansLora.Engine.Constraints;

/// <summary>
/// Parses the regex subset grammars accept (ECMA-262 / Python syntax): literals, <c>.</c>, classes
/// <c>[a-z\d]</c> and <c>[^…]</c>, escapes <c>\d \w \s \D \W \S \n \t \r \xHH \uHHHH</c>, groups
/// <c>( )</c> <c>(?: )</c> <c>(?&lt;name&gt; )</c>, <c>|</c>, quantifiers <c>* + ? {n} {n,} {n,m}</c> (lazy
/// forms match the same language). The match is always the whole text: a leading <c>^</c> and trailing
/// <c>$</c> are accepted and mean nothing more. Backreferences, lookaround and inner anchors are refused.
/// Every character is intersected with <paramref name="allowed"/> (a JSON string leaves out quote,
/// backslash and control characters, so the output needs no escaping).
/// </summary>
internal sealed class RegexParser
{
    // A bound on counted repetition keeps the automaton small (each count is a copy).
    public const int MaxRepeat = 256;

    private readonly string _pattern;
    private readonly CharSet _allowed;
    private int _pos;

    private RegexParser(string pattern, CharSet allowed)
    {
        _pattern = pattern;
        _allowed = allowed;
    }

    public static RegexNode Parse(string pattern, CharSet? allowed = null)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var parser = new RegexParser(pattern, allowed ?? CharSet.Any);
        if (parser.Peek('^'))
            parser._pos++;
        var node = parser.ParseAlternation();
        if (parser._pos < pattern.Length)
            throw parser.Error($"unexpected '{pattern[parser._pos]}'");
        return node;
    }

    private RegexNode ParseAlternation()
    {
        var branches = new List<RegexNode> { ParseSequence() };
        while (Peek('|'))
        {
            _pos++;
            branches.Add(ParseSequence());
        }
        return RegexNode.Alt(branches);
    }

    private RegexNode ParseSequence()
    {
        var items = new List<RegexNode>();
        while (_pos < _pattern.Length && _pattern[_pos] is not ('|' or ')'))
        {
            if (_pattern[_pos] == '$' && (_pos == _pattern.Length - 1))
            {
                _pos++;
                continue;
            }
            items.Add(ParseQuantified(ParseAtom()));
        }
        return RegexNode.Seq(items);
    }

    private RegexNode ParseQuantified(RegexNode atom)
    {
        while (_pos < _pattern.Length)
        {
            int min, max;
            char c = _pattern[_pos];
            if (c == '*') { min = 0; max = -1; _pos++; }
            else if (c == '+') { min = 1; max = -1; _pos++; }
            else if (c == '?') { min = 0; max = 1; _pos++; }
            else if (c == '{' && TryParseCount(out min, out max)) { }
            else break;
            if (Peek('?'))
                _pos++;
            if (Peek('+'))
                throw Error("possessive quantifiers are not supported");
            atom = RegexNode.Repeat(atom, min, max);
        }
        return atom;
    }

    private bool TryParseCount(out int min, out int max)
    {
        min = max = 0;
        int end = _pattern.IndexOf('}', _pos);
        if (end < 0)
            return false;
        string body = _pattern[(_pos + 1)..end];
        string[] parts = body.Split(',');
        if (parts.Length > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out min))
            return false;
        if (parts.Length == 1)
            max = min;
        else if (parts[1].Length == 0)
            max = -1;
        else if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out max) || max < min)
            throw Error($"bad count {{{body}}}");
        if (min > MaxRepeat || max > MaxRepeat)
            throw Error($"counts above {MaxRepeat} are not supported");
        _pos = end + 1;
        return true;
    }

    private RegexNode ParseAtom()
    {
        char c = _pattern[_pos++];
        switch (c)
        {
            case '(':
                if (Peek('?'))
                {
                    _pos++;
                    if (Peek(':'))
                        _pos++;
                    else if (Peek('<') && _pos + 1 < _pattern.Length && _pattern[_pos + 1] is not ('=' or '!'))
                        _pos = _pattern.IndexOf('>', _pos) is int close and >= 0 ? close + 1 : throw Error("unterminated group name");
                    else if (Peek('P') && _pos + 1 < _pattern.Length && _pattern[_pos + 1] == '<')
                        _pos = _pattern.IndexOf('>', _pos) is int close and >= 0 ? close + 1 : throw Error("unterminated group name");
                    else
                        throw Error("lookaround and inline flags are not supported");
                }
                var inner = ParseAlternation();
                if (!Peek(')'))
                    throw Error("missing ')'");
                _pos++;
                return inner;
            case '[':
                return Chars(ParseClass());
            case '.':
                return Chars(CharSet.Single('\n').Complement());
            case '\\':
                return Chars(ParseEscape(inClass: false));
            case '^' or '$':
                throw Error($"'{c}' is only supported at the start or end of the pattern");
            case '*' or '+' or '?':
                throw Error($"nothing to repeat before '{c}'");
            case ')':
                throw Error("unbalanced ')'");
            default:
                if (char.IsHighSurrogate(c) && _pos < _pattern.Length && char.IsLowSurrogate(_pattern[_pos]))
                    return Chars(CharSet.Single(char.ConvertToUtf32(c, _pattern[_pos++])));
                return Chars(CharSet.Single(c));
        }
    }

    private RegexNode Chars(CharSet set) => set.Intersect(_allowed).ToUtf8();

    private CharSet ParseClass()
    {
        bool negate = Peek('^');
        if (negate)
            _pos++;
        var ranges = CharSet.Empty;
        bool first = true;
        while (true)
        {
            if (_pos >= _pattern.Length)
                throw Error("missing ']'");
            char c = _pattern[_pos];
            if (c == ']' && !first)
            {
                _pos++;
                break;
            }
            first = false;
            CharSet lowSet = ClassAtom();
            if (Peek('-') && _pos + 1 < _pattern.Length && _pattern[_pos + 1] != ']'
                && lowSet.Ranges is [var (lo, hi)] && lo == hi)
            {
                _pos++;
                CharSet highSet = ClassAtom();
                if (highSet.Ranges is not [var (hlo, hhi)] || hlo != hhi || hlo < lo)
                    throw Error("bad class range");
                ranges = ranges.Union(CharSet.Of((lo, hlo)));
            }
            else
            {
                ranges = ranges.Union(lowSet);
            }
        }
        return negate ? ranges.Complement() : ranges;
    }

    private CharSet ClassAtom()
    {
        char c = _pattern[_pos++];
        if (c == '\\')
            return ParseEscape(inClass: true);
        if (char.IsHighSurrogate(c) && _pos < _pattern.Length && char.IsLowSurrogate(_pattern[_pos]))
            return CharSet.Single(char.ConvertToUtf32(c, _pattern[_pos++]));
        return CharSet.Single(c);
    }

    private static readonly CharSet Digits = CharSet.Of(('0', '9'));
    private static readonly CharSet Word = CharSet.Of(('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z'));
    private static readonly CharSet Space = CharSet.Of((' ', ' '), ('\t', '\r'), (0xA0, 0xA0), (0x2028, 0x2029), (0xFEFF, 0xFEFF));

    private CharSet ParseEscape(bool inClass)
    {
        if (_pos >= _pattern.Length)
            throw Error("trailing '\\'");
        char c = _pattern[_pos++];
        switch (c)
        {
            case 'd': return Digits;
            case 'D': return Digits.Complement();
            case 'w': return Word;
            case 'W': return Word.Complement();
            case 's': return Space;
            case 'S': return Space.Complement();
            case 'n': return CharSet.Single('\n');
            case 't': return CharSet.Single('\t');
            case 'r': return CharSet.Single('\r');
            case 'f': return CharSet.Single('\f');
            case 'v': return CharSet.Single('\v');
            case '0': return CharSet.Single('\0');
            case 'x': return CharSet.Single(Hex(2));
            case 'u': return CharSet.Single(Hex(4));
            case 'b' when inClass: return CharSet.Single('\b');
            default:
                if (char.IsAsciiLetterOrDigit(c))
                    throw Error($"'\\{c}' is not supported");
                return CharSet.Single(c);
        }
    }

    private int Hex(int digits)
    {
        if (_pos + digits > _pattern.Length
            || !int.TryParse(_pattern.AsSpan(_pos, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int value))
        {
            throw Error("bad hex escape");
        }
        _pos += digits;
        return value;
    }

    private bool Peek(char c) => _pos < _pattern.Length && _pattern[_pos] == c;

    private GrammarException Error(string what) => new($"regex '{_pattern}' at {_pos}: {what}.");
}
