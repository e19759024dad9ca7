using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OrleansLora.Server.Configuration;
using OrleansLora.Server.Http.Management;

namespace OrleansLora.Server.Http;

/// <summary>
/// Bearer keys: with <c>ApiKeys</c> configured every endpoint but the probes wants one of them or an admin
/// key (401 otherwise); endpoints marked <see cref="AdminEndpoint"/> want an admin key when
/// <c>AdminKeys</c> are configured (403 for a valid non-admin key). Keys are compared in constant time.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, IOptions<GatewayOptions> options)
{
    private readonly byte[][] _apiKeys = [.. options.Value.ApiKeys.Select(Encoding.UTF8.GetBytes)];
    private readonly byte[][] _adminKeys = [.. options.Value.AdminKeys.Select(Encoding.UTF8.GetBytes)];

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<PublicEndpoint>() is not null)
            return next(context);
        bool admin = endpoint?.Metadata.GetMetadata<AdminEndpoint>() is not null;
        bool needsKey = _apiKeys.Length > 0 || (admin && _adminKeys.Length > 0);
        if (!needsKey)
            return next(context);
        string? key = BearerKey(context.Request);
        if (key is null)
            return Refuse(context, 401, "missing API key: send the header \"Authorization: Bearer <key>\".", "missing_api_key");
        var bytes = Encoding.UTF8.GetBytes(key);
        bool isAdmin = Matches(_adminKeys, bytes);
        bool isUser = isAdmin || Matches(_apiKeys, bytes);
        if (!isUser)
            return Refuse(context, 401, "incorrect API key.", "invalid_api_key");
        if (admin && _adminKeys.Length > 0 && !isAdmin)
            return Refuse(context, 403, "this endpoint needs an admin key.", "admin_key_required");
        return next(context);
    }

    private static string? BearerKey(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return null;
        string key = header["Bearer ".Length..].Trim();
        return key.Length == 0 ? null : key;
    }

    private static bool Matches(byte[][] keys, byte[] given)
    {
        bool match = false;
        foreach (var k in keys)
            match |= CryptographicOperations.FixedTimeEquals(k, given);
        return match;
    }

    private static Task Refuse(HttpContext context, int status, string message, string code)
    {
        if (status == 401)
            context.Response.Headers.WWWAuthenticate = "Bearer";
        return ErrorMapping.WriteAsync(context, status, new ApiError(message, status == 401 ? "invalid_request_error" : "permission_error", null, code));
    }
}
