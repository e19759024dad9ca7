using System.Globalization;
using System.Text;

namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>Python's repr(float): the shortest digits that round-trip, fixed or exponent notation as Python picks.</summary>
internal static class PyFloat
{
    public static string Repr(double value)
    {
        if (double.IsNaN(value))
            return "nan";
        if (double.IsInfinity(value))
            return value > 0 ? "inf" : "-inf";
        if (value == 0)
            return double.IsNegative(value) ? "-0.0" : "0.0";

        // .NET's "R" gives the same shortest round-trip digits as Python; only the layout differs.
        string r = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOfAny(['E', 'e']);
        string mantissa = e < 0 ? r : r[..e];
        int exponent = e < 0 ? 0 : int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int point = mantissa.IndexOf('.');
        string digits = point < 0 ? mantissa : mantissa.Remove(point, 1);
        int decimalPoint = (point < 0 ? mantissa.Length : point) + exponent;
        int leading = 0;
        while (leading < digits.Length - 1 && digits[leading] == '0')
            leading++;
        digits = digits[leading..];
        decimalPoint -= leading;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0)
            digits = "0";

        var text = new StringBuilder(value < 0 ? "-" : "");
        if (decimalPoint > -4 && decimalPoint <= 16)
        {
            if (decimalPoint <= 0)
                text.Append("0.").Append('0', -decimalPoint).Append(digits);
            else if (decimalPoint >= digits.Length)
                text.Append(digits).Append('0', decimalPoint - digits.Length).Append(".0");
            else
                text.Append(digits, 0, decimalPoint).Append('.').Append(digits, decimalPoint, digits.Length - decimalPoint);
        }
        else
        {
            text.Append(digits[0]);
            if (digits.Length > 1)
                text.Append('.').Append(digits, 1, digits.Length - 1);
            int shown = decimalPoint - 1;
            text.Append(shown < 0 ? "e-" : "e+").Append(Math.Abs(shown).ToString("00", CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }
}
