using OrleansLora.Generation;
using OrleansLora.Server.Http.OpenAi;

namespace OrleansLora.Server.Http.Tokenize;

/// <summary>
/// vLLM's <c>/tokenize</c> and <c>/detokenize</c>. The gateway holds no tokenizer: the adapter's grain tokenizes on its
/// worker, with the tokenizer and chat template a generation on that adapter uses, so the ids are exactly a generation's.
/// </summary>
public static class TokenizeApi
{
    public static IEndpointRouteBuilder MapTokenizeApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Tokenizer");
        group.MapPost("/tokenize", Tokenize)
            .Accepts<TokenizeRequest>("application/json", "*/*")
            .Produces<TokenizeResponse>()
            .Produces<ApiErrorResponse>(StatusCodes.Status400BadRequest);
        group.MapPost("/detokenize", Detokenize)
            .Accepts<DetokenizeRequest>("application/json", "*/*")
            .Produces<DetokenizeResponse>()
            .Produces<ApiErrorResponse>(StatusCodes.Status400BadRequest);
        return app;
    }

    private static async Task<TokenizeResponse> Tokenize(HttpContext http, ClusterView cluster)
    {
        var body = await RequestBody.ReadAsync<TokenizeRequest>(http.Request, http.RequestAborted);
        string key = await cluster.AdapterKeyAsync(body.Model, "model");
        var query = new TokenizeQuery
        {
            Prompt = body.Prompt,
            Messages = body.Messages?.Select(m => OpenAiApi.ToItem(m!)).ToList(),
            Tools = FieldChecks.IsSet(body.Tools) ? body.Tools!.Value.GetRawText() : null,
            AddSpecialTokens = body.AddSpecialTokens,
            AddGenerationPrompt = body.AddGenerationPrompt ?? true,
        };
        var result = await cluster.Adapter(key).Tokenize(query, http.RequestAborted);
        return new TokenizeResponse(result.Tokens.Count, result.MaxModelLength, result.Tokens);
    }

    private static async Task<DetokenizeResponse> Detokenize(HttpContext http, ClusterView cluster)
    {
        var body = await RequestBody.ReadAsync<DetokenizeRequest>(http.Request, http.RequestAborted);
        string key = await cluster.AdapterKeyAsync(body.Model, "model");
        return new DetokenizeResponse(await cluster.Adapter(key).Detokenize(body.Tokens!, http.RequestAborted));
    }
}
