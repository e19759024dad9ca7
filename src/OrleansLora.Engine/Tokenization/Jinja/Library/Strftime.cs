using System.Globalization;
using System.Text;
using OrleansLora.Engine.Tokenization.Jinja.Runtime;

namespace OrleansLora.Engine.Tokenization.Jinja.Library;

/// <summary>Python's <c>datetime.strftime</c> in the C locale, for <c>strftime_now("%d %b %Y")</c>.</summary>
internal static class Strftime
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] Months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    public static string Format(DateTimeOffset time, string format)
    {
        var text = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                text.Append(format[i]);
                continue;
            }
            char directive = format[++i];
            text.Append(directive switch
            {
                'a' => Days[(int)time.DayOfWeek][..3],
                'A' => Days[(int)time.DayOfWeek],
                'b' or 'h' => Months[time.Month - 1][..3],
                'B' => Months[time.Month - 1],
                'd' => Two(time.Day),
                'e' => time.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2),
                'm' => Two(time.Month),
                'y' => Two(time.Year % 100),
                'Y' => time.Year.ToString(CultureInfo.InvariantCulture),
                'H' => Two(time.Hour),
                'I' => Two(time.Hour % 12 == 0 ? 12 : time.Hour % 12),
                'M' => Two(time.Minute),
                'S' => Two(time.Second),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'j' => time.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                'w' => ((int)time.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'F' => time.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                'T' => time.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
                'z' => (time.Offset < TimeSpan.Zero ? "-" : "+") + time.Offset.ToString("hhmm", CultureInfo.InvariantCulture),
                'Z' => time.Offset == TimeSpan.Zero ? "UTC" : "",
                '%' => "%",
                _ => throw new TemplateRuntimeException($"strftime_now: the directive '%{directive}' is not supported by this engine", "strftime_now") { IsUnsupported = true },
            });
        }
        return text.ToString();
    }

    private static string Two(int value) => value.ToString("00", CultureInfo.InvariantCulture);
}
