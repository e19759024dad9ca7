using System.Globalization;
using Orleans.Clustering.Redis;
using StackExchange.Redis;

namespace OrleansLora.Server.Hosting.Clustering;

/// <summary>
/// Wraps Orleans' Redis membership table so that a Redis which restarted empty (no persistence) does not
/// leave the cluster without membership. Orleans' provider then fails every read with "membership table
/// version is missing" (<see cref="RedisClusteringException"/>): management calls fail, a silo that dies is
/// never declared dead, a new silo cannot join. Each silo keeps the raw rows of the last table it read; when
/// the table's version is lower than the last one this silo saw (the table was lost, or a newcomer re-created
/// it), or this silo's own row is missing, one atomic script puts back the rows that are missing and sets the
/// version above every version seen, so every silo takes the restored table as newer than its view and none
/// finds itself gone (which would make it stop). Rows already present are never overwritten.
/// </summary>
internal sealed partial class RecoveringMembershipTable(
    IMembershipTable inner,
    RedisKey tableKey,
    ConfigurationOptions redis,
    Func<SiloAddress> localSilo,
    ILogger<RecoveringMembershipTable> logger) : IMembershipTable, IAsyncDisposable
{
    private const string VersionField = "Version";

    // KEYS[1] the table; ARGV[1] the last version this silo saw; ARGV[2] this silo's row (or ""); then field/value pairs.
    // Returns the new version, or -1 when the table needs nothing.
    private const string RestoreScript = """
        local v = redis.call('HGET', KEYS[1], 'Version')
        local current = -1
        if v then current = tonumber(v) end
        local last = tonumber(ARGV[1])
        if current >= last and (ARGV[2] == '' or redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1) then
          return -1
        end
        for i = 3, #ARGV, 2 do
          redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
        end
        local restored = math.max(current, last) + 1
        redis.call('HSET', KEYS[1], 'Version', tostring(restored))
        return restored
        """;

    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _connection;
    private HashEntry[] _lastRows = [];
    private long _lastVersion = -1;

    public async Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken = default)
    {
        await inner.InitializeMembershipTableAsync(tryInitTableVersion, cancellationToken);
        var db = await DatabaseAsync(cancellationToken);
        await WarnWithoutPersistenceAsync(db);
    }

    public async Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken = default) =>
        await Recovering(() => inner.ReadAllAsync(cancellationToken), checkFirst: true, cancellationToken);

    public async Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken = default) =>
        await Recovering(() => inner.ReadRowAsync(key, cancellationToken), checkFirst: true, cancellationToken);

    public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken = default) =>
        inner.InsertRowAsync(entry, tableVersion, cancellationToken);

    public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken = default) =>
        inner.UpdateRowAsync(entry, etag, tableVersion, cancellationToken);

    public Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken = default) =>
        Recovering(async () =>
        {
            await inner.UpdateIAmAliveAsync(entry, cancellationToken);
            return true;
        }, checkFirst: false, cancellationToken);

    public Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken = default) =>
        Recovering(async () =>
        {
            await inner.CleanupDefunctSiloEntriesAsync(beforeDate, cancellationToken);
            return true;
        }, checkFirst: false, cancellationToken);

    public async Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken = default)
    {
        await inner.DeleteMembershipTableEntriesAsync(clusterId, cancellationToken);
        lock (_gate)
        {
            _lastRows = [];
            _lastVersion = -1;
        }
    }

    // The pre-cancellation-token members of the interface, as Orleans still declares them.
    public Task InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion);
    public Task DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId);
    public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate);
    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadRowAsync(key);
    public Task<MembershipTableData> ReadAll() => ReadAllAsync();
    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion);
    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion);
    public Task UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry);

    /// <summary>
    /// Runs <paramref name="operation"/> on a table that is whole: checked (and restored) first when
    /// <paramref name="checkFirst"/>, and checked, restored and retried once when the provider reports the
    /// table gone (it can vanish between the check and the call).
    /// </summary>
    private async Task<T> Recovering<T>(Func<Task<T>> operation, bool checkFirst, CancellationToken cancellationToken)
    {
        if (checkFirst)
            await EnsureWholeAsync(cancellationToken);
        try
        {
            return await operation();
        }
        catch (RedisClusteringException ex)
        {
            LogTableError(logger, ex.Message);
            await EnsureWholeAsync(cancellationToken);
            return await operation();
        }
    }

    /// <summary>Reads the raw table, restores it from the last copy when it was lost, and keeps the result as the new copy.</summary>
    private async Task EnsureWholeAsync(CancellationToken cancellationToken)
    {
        var db = await DatabaseAsync(cancellationToken);
        var raw = await db.HashGetAllAsync(tableKey).WaitAsync(cancellationToken);
        long version = VersionOf(raw);
        HashEntry[] lastRows;
        long lastVersion;
        lock (_gate)
        {
            (lastRows, lastVersion) = (_lastRows, _lastVersion);
        }
        string own = localSilo().ToString();
        bool ownKnown = lastRows.Any(r => r.Name == own);
        bool ownMissing = ownKnown && !raw.Any(r => r.Name == own);
        if (version < lastVersion || ownMissing)
        {
            var args = new List<RedisValue> { lastVersion, ownKnown ? own : "" };
            foreach (var row in lastRows)
            {
                args.Add(row.Name);
                args.Add(row.Value);
            }
            var result = (long)await db.ScriptEvaluateAsync(RestoreScript, [tableKey], [.. args]).WaitAsync(cancellationToken);
            if (result >= 0)
                LogRestored(logger, tableKey.ToString(), version, lastVersion, lastRows.Length, result);
            raw = await db.HashGetAllAsync(tableKey).WaitAsync(cancellationToken);
            version = VersionOf(raw);
        }
        lock (_gate)
        {
            if (version >= _lastVersion)
            {
                _lastVersion = version;
                _lastRows = raw.Where(r => r.Name != VersionField).ToArray();
            }
        }
    }

    private static long VersionOf(HashEntry[] raw)
    {
        foreach (var entry in raw)
        {
            if (entry.Name == VersionField && long.TryParse(entry.Value.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v))
                return v;
        }
        return -1;
    }

    private async Task<IDatabase> DatabaseAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } ready)
            return ready.GetDatabase();
        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (_connection is null)
            {
                var options = redis.Clone();
                options.AllowAdmin = true; // CONFIG GET, to warn about a Redis without persistence
                _connection = await ConnectionMultiplexer.ConnectAsync(options);
            }
            return _connection.GetDatabase();
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>Says at start-up when Redis keeps nothing across a restart (no append-only file, no snapshots).</summary>
    private async Task WarnWithoutPersistenceAsync(IDatabase db)
    {
        try
        {
            var appendOnly = (RedisResult[])(await db.ExecuteAsync("CONFIG", "GET", "appendonly"))!;
            var save = (RedisResult[])(await db.ExecuteAsync("CONFIG", "GET", "save"))!;
            if (appendOnly.Length == 2 && appendOnly[1].ToString() == "no" && save.Length == 2 && string.IsNullOrWhiteSpace(save[1].ToString()))
                LogNoPersistence(logger, redis.ToString(includePassword: false));
        }
        catch (RedisException)
        {
            // CONFIG may be disabled or renamed (managed Redis): nothing to say then.
        }
    }

    /// <summary>Closes this wrapper's own connection; the provider's table is the container's to dispose.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
            await connection.DisposeAsync();
        _connecting.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis membership table error: {Message}; checking the table")]
    private static partial void LogTableError(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis membership table {Key} was lost (version {Found}, last seen {LastSeen}): restored the missing rows of this silo's last view ({Rows} rows) as version {Restored}")]
    private static partial void LogRestored(ILogger logger, string key, long found, long lastSeen, int rows, long restored);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis {Redis} runs without persistence (appendonly no, no snapshots): a restart loses grain state (adapter registrations and counters; each silo writes back what it holds in memory) and the membership table (each silo restores it from its last view). Run Redis with --appendonly yes to keep them.")]
    private static partial void LogNoPersistence(ILogger logger, string redis);
}
