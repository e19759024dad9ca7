using System.Text;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// GPT-2's reversible byte-to-character map (<c>bytes_to_unicode</c>): printable Latin-1 bytes map to
/// themselves and the other 68 bytes to U+0100 onwards in byte order, so every byte string becomes a
/// string of visible characters that BPE vocabularies (vocab.json, tokenizer.json) can key on.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly short[] CharToByte = BuildCharToByte(ByteToChar);

    public static char ToChar(byte value) => ByteToChar[value];

    /// <summary>Maps raw bytes to their byte-level characters.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        char[] chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
            chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>Maps UTF-16 text to the byte-level characters of its UTF-8 bytes.</summary>
    public static string EncodeText(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        return Encode(utf8);
    }

    /// <summary>
    /// Appends the bytes behind a byte-level token. A token with a character outside the alphabet
    /// (an added token such as "&lt;|im_start|&gt;" with non-Latin text) is taken as plain UTF-8, as the
    /// Hugging Face ByteLevel decoder does.
    /// </summary>
    public static void AppendBytes(string token, List<byte> output)
    {
        foreach (char c in token)
        {
            if (c >= CharToByte.Length || CharToByte[c] < 0)
            {
                output.AddRange(Encoding.UTF8.GetBytes(token));
                return;
            }
        }
        foreach (char c in token)
            output.Add((byte)CharToByte[c]);
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + extra++);
        }
        return map;
    }

    private static short[] BuildCharToByte(char[] byteToChar)
    {
        var map = new short[256 + 68];
        Array.Fill(map, (short)-1);
        for (int b = 0; b < 256; b++)
            map[byteToChar[b]] = (short)b;
        return map;
    }
}
