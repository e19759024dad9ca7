namespace OrleansLora.PlacementBench;

/// <summary>One simulated run: busiest ÷ mean request load per worker before and after the join, and the moves made.</summary>
internal sealed record SimulationResult(double SteadyRatio, double JoinRatio, int Moves, int MovedToJoined);
