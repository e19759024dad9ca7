namespace OrleansLora.Server.Configuration;

/// <summary>What a silo process does: own devices (worker), accept clients and HTTP only (gateway), or both.</summary>
public enum ServerRole
{
    Both,
    Worker,
    Gateway,
}
