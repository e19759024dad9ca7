namespace OrleansLora.Server.Http.Management;

/// <summary>GET /v1/adapters.</summary>
public sealed record AdapterList(IReadOnlyList<AdapterEntry> Data)
{
    public string Object => "list";
}
