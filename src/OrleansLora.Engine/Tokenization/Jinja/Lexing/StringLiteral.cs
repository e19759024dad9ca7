using System.Globalization;
using System.Text;

namespace OrleansLora.Engine.Tokenization.Jinja.Lexing;

/// <summary>
/// Decodes the body of a quoted string as jinja2 does (Python's unicode-escape): \n \t \\ \' \"
/// \xhh \uhhhh \Uhhhhhhhh and octal; an unknown escape keeps its backslash.
/// </summary>
internal static class StringLiteral
{
    public static string Decode(ReadOnlySpan<char> body)
    {
        if (body.IndexOf('\\') < 0)
            return body.ToString();
        var text = new StringBuilder(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c != '\\' || i + 1 >= body.Length)
            {
                text.Append(c);
                continue;
            }
            char e = body[++i];
            switch (e)
            {
                case '\n': break; // a backslash before a newline joins the lines
                case '\\': text.Append('\\'); break;
                case '\'': text.Append('\''); break;
                case '"': text.Append('"'); break;
                case 'a': text.Append('\a'); break;
                case 'b': text.Append('\b'); break;
                case 'f': text.Append('\f'); break;
                case 'n': text.Append('\n'); break;
                case 'r': text.Append('\r'); break;
                case 't': text.Append('\t'); break;
                case 'v': text.Append('\v'); break;
                case 'x': i = Hex(body, i, 2, text); break;
                case 'u': i = Hex(body, i, 4, text); break;
                case 'U': i = Hex(body, i, 8, text); break;
                case >= '0' and <= '7':
                    int value = 0, digits = 0;
                    while (digits < 3 && i < body.Length && body[i] is >= '0' and <= '7')
                    {
                        value = value * 8 + (body[i] - '0');
                        i++;
                        digits++;
                    }
                    i--;
                    text.Append((char)value);
                    break;
                default:
                    text.Append('\\').Append(e);
                    break;
            }
        }
        return text.ToString();
    }

    private static int Hex(ReadOnlySpan<char> body, int at, int digits, StringBuilder text)
    {
        if (body.Length - at - 1 < digits
            || !int.TryParse(body.Slice(at + 1, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value)
            || value > 0x10FFFF)
        {
            throw new FormatException($"truncated or invalid \\{body[at]} escape");
        }
        if (value is >= 0xD800 and <= 0xDFFF)
            text.Append((char)value);
        else
            text.Append(char.ConvertFromUtf32(value));
        return at + digits;
    }
}
