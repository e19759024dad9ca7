namespace OrleansLora.Grains.Devices;

/// <summary>How many devices this silo owns (0 on a gateway-only silo); what adapter grains need to know of them.</summary>
public sealed record LocalDevices(int Count);
