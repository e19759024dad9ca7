namespace OrleansLora.Engine.Generation;

/// <summary>Where an adapter's weights are: in a device slot, in host memory, or only in the store on disk.</summary>
public enum AdapterResidencyLevel
{
    Disk,
    Host,
    Device,
}
