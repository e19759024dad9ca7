namespace OrleansLora.Devices;

/// <summary>The key of a GPU grain: <c>"{siloAddress}|{deviceIndex}"</c>, with the silo in Orleans' parsable form.</summary>
public static class DeviceKey
{
    public static string Format(SiloAddress silo, int deviceIndex) => $"{silo.ToParsableString()}|{deviceIndex}";

    public static bool TryParse(string key, out SiloAddress silo, out int deviceIndex)
    {
        silo = null!;
        deviceIndex = -1;
        int bar = key.LastIndexOf('|');
        if (bar <= 0 || !int.TryParse(key.AsSpan(bar + 1), out deviceIndex) || deviceIndex < 0)
            return false;
        try
        {
            silo = SiloAddress.FromParsableString(key[..bar]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
