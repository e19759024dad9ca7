namespace OrleansLora.SoakBench;

/// <summary>The resident set size of a process on this machine, from <c>/proc/PID/status</c> (VmRSS).</summary>
internal static class ServerRss
{
    public static long? Bytes(int? pid)
    {
        if (pid is not { } p)
            return null;
        try
        {
            foreach (string line in File.ReadLines($"/proc/{p}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        return null;
    }
}
