namespace OrleansLora.Reliability.Tests.AdapterFiles;

/// <summary>The adapter-file tests share one keyed server of their own, so broken adapters never meet the other suites.</summary>
[CollectionDefinition(Name)]
public sealed class AdapterFilesCollection : ICollectionFixture<AdapterFilesServer>
{
    public const string Name = "adapter-files";
}
