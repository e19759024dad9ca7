namespace OrleansLora.Server.Http.OpenAi;

/// <summary>GET /v1/models.</summary>
public sealed record ModelList(IReadOnlyList<ModelCard> Data)
{
    public string Object => "list";
}
