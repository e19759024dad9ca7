using System.Collections.Concurrent;

namespace OrleansLora.Cluster.Tests.Support;

/// <summary>
/// Every silo's live activations by grain id, from the runtime's working-set notifications, so a test can make the
/// runtime deactivate one for a reason only the runtime gives (a directory failure, as after a silo left).
/// </summary>
public sealed class ActivationRecorder : IActivationWorkingSetObserver
{
    private static readonly ConcurrentDictionary<GrainId, IGrainContext> Live = new();

    public static IGrainContext Find(GrainId id) =>
        Live.TryGetValue(id, out var context) ? context : throw new InvalidOperationException($"no live activation of {id} was recorded.");

    public static bool IsLive(IGrainContext context) => Live.TryGetValue(context.GrainId, out var live) && ReferenceEquals(live, context);

    public void OnAdded(IActivationWorkingSetMember member)
    {
        if (member is IGrainContext context)
            Live[context.GrainId] = context;
    }

    public void OnActive(IActivationWorkingSetMember member) { }
    public void OnIdle(IActivationWorkingSetMember member) { }
    public void OnEvicted(IActivationWorkingSetMember member) { }
    public void OnDeactivating(IActivationWorkingSetMember member) { }

    public void OnDeactivated(IActivationWorkingSetMember member)
    {
        if (member is IGrainContext context)
            Live.TryRemove(new KeyValuePair<GrainId, IGrainContext>(context.GrainId, context));
    }
}
