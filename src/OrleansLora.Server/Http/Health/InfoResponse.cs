namespace OrleansLora.Server.Http.Health;

/// <summary>GET /info: the base model, adapter slots (MaxLoras of this silo's engine configuration), the devices and the version.</summary>
public sealed record InfoResponse(string BaseModel, int MaxLoras, int MaxLoraRank, int MaxSequenceLength, string Role, string Version, IReadOnlyList<DeviceInfo> Devices);
