namespace OrleansLora.Engine.Constraints;

/// <summary>
/// Byte-level pieces of JSON shared by the any-value grammar and the schema compiler. Whitespace is
/// bounded (at most one space, or a newline and up to <see cref="MaxIndent"/> indent characters, as
/// llama.cpp's JSON grammar does) so a model cannot spend its tokens on blanks; strings hold no raw
/// control characters; numbers have at most 16 integer and 15 fraction digits so they fit a double and
/// a long.
/// </summary>
internal static class JsonGrammar
{
    public const int MaxIndent = 12;

    /// <summary>Nesting of objects and arrays in an any-value grammar (<c>json_object</c>, untyped schemas).</summary>
    public const int MaxAnyDepth = 5;

    private static RegexNode? _any;

    public static RegexNode Whitespace { get; } = RegexNode.Optional(RegexNode.Alt(
        RegexNode.Literal(" "),
        RegexNode.Seq(RegexNode.Literal("\n"), RegexNode.Repeat(RegexNode.Alt(RegexNode.Literal(" "), RegexNode.Literal("\t")), 0, MaxIndent))));

    /// <summary>Characters a JSON string may hold unescaped (no quote, backslash or control characters).</summary>
    public static CharSet PlainChars { get; } = CharSet.Of((0x20, 0x21), (0x23, 0x5B), (0x5D, CharSet.MaxCodePoint));

    /// <summary>Printable ASCII without quote and backslash: string content whose length must be counted exactly.</summary>
    public static CharSet CountableChars { get; } = CharSet.Of((0x20, 0x21), (0x23, 0x5B), (0x5D, 0x7E));

    /// <summary>Any JSON string. <c>\u</c> escapes are limited to non-surrogates so the text always decodes.</summary>
    public static RegexNode String { get; } = Quoted(RegexNode.Repeat(RegexNode.Alt(PlainChars.ToUtf8(), SafeEscape()), 0, -1));

    public static RegexNode Integer { get; } = RegexNode.Seq(
        RegexNode.Optional(RegexNode.Literal("-")),
        UnsignedInteger());

    public static RegexNode Number { get; } = RegexNode.Seq(
        Integer,
        RegexNode.Optional(RegexNode.Seq(RegexNode.Literal("."), RegexNode.Repeat(Digit(), 1, 15))),
        RegexNode.Optional(RegexNode.Seq(
            RegexNode.Alt(RegexNode.Literal("e"), RegexNode.Literal("E")),
            RegexNode.Optional(RegexNode.Alt(RegexNode.Literal("+"), RegexNode.Literal("-"))),
            RegexNode.Repeat(Digit(), 1, 2))));

    public static RegexNode Boolean { get; } = RegexNode.Alt(RegexNode.Literal("true"), RegexNode.Literal("false"));

    public static RegexNode Null { get; } = RegexNode.Literal("null");

    /// <summary>Any JSON value nested at most <see cref="MaxAnyDepth"/> deep.</summary>
    public static RegexNode AnyValue => _any ??= Any(MaxAnyDepth);

    /// <summary>Any JSON object (OpenAI's json_object answer is an object).</summary>
    public static RegexNode AnyObject => Object(Any(MaxAnyDepth - 1));

    public static RegexNode Digit() => RegexNode.Bytes((byte)'0', (byte)'9');

    public static RegexNode UnsignedInteger() => RegexNode.Alt(
        RegexNode.Literal("0"),
        RegexNode.Seq(RegexNode.Bytes((byte)'1', (byte)'9'), RegexNode.Repeat(Digit(), 0, 15)));

    public static RegexNode Quoted(RegexNode content) => RegexNode.Seq(RegexNode.Literal("\""), content, RegexNode.Literal("\""));

    /// <summary><c>ws , ws</c> between items.</summary>
    public static RegexNode Comma { get; } = RegexNode.Seq(Whitespace, RegexNode.Literal(","), Whitespace);

    /// <summary><c>{ ws members ws }</c>.</summary>
    public static RegexNode Braced(string open, RegexNode members, string close) =>
        RegexNode.Seq(RegexNode.Literal(open), Whitespace, members, Whitespace, RegexNode.Literal(close));

    public static RegexNode Member(RegexNode key, RegexNode value) =>
        RegexNode.Seq(key, Whitespace, RegexNode.Literal(":"), Whitespace, value);

    /// <summary>An object whose every value is <paramref name="value"/> (any keys).</summary>
    public static RegexNode Object(RegexNode value) =>
        Braced("{", RegexNode.SeparatedList(Member(String, value), Comma, 0, -1), "}");

    public static RegexNode Array(RegexNode item, int min = 0, int max = -1) =>
        Braced("[", RegexNode.SeparatedList(item, Comma, min, max), "]");

    private static RegexNode Any(int depth)
    {
        var scalars = new List<RegexNode> { String, Number, Boolean, Null };
        if (depth > 0)
        {
            var inner = Any(depth - 1);
            scalars.Add(Object(inner));
            scalars.Add(Array(inner));
        }
        return RegexNode.Alt(scalars);
    }

    private static RegexNode SafeEscape()
    {
        // \uXXXX without surrogate halves (D800-DFFF): a lone half would not decode.
        var hex = CharSet.Of(('0', '9'), ('a', 'f'), ('A', 'F')).ToUtf8();
        var notD = CharSet.Of(('0', '9'), ('a', 'c'), ('e', 'f'), ('A', 'C'), ('E', 'F')).ToUtf8();
        var lowHalf = CharSet.Of(('0', '7')).ToUtf8();
        var d = CharSet.Of(('d', 'd'), ('D', 'D')).ToUtf8();
        var unicode = RegexNode.Seq(
            RegexNode.Literal("u"),
            RegexNode.Alt(
                RegexNode.Seq(notD, hex, hex, hex),
                RegexNode.Seq(d, lowHalf, hex, hex)));
        return RegexNode.Seq(
            RegexNode.Literal("\\"),
            RegexNode.Alt(RegexNode.Alt("\"\\/bfnrt".Select(c => RegexNode.Literal(c.ToString()))), unicode));
    }
}
