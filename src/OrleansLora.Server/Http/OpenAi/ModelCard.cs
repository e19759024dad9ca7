namespace OrleansLora.Server.Http.OpenAi;

/// <summary>An entry of GET /v1/models: the base model (parent null) or an adapter (parent: the base), as vLLM lists them.</summary>
public sealed record ModelCard(string Id, long Created, string OwnedBy, string Root, string? Parent)
{
    public string Object => "model";
}
