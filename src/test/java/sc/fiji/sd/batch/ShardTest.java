package sc.fiji.sd.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** Shards partition the rows, from --shard or from the SLURM array variables. */
class ShardTest {

	@Test
	void shardsCoverEveryRowExactlyOnce() {
		for (int n = 1; n <= 7; n++) {
			for (int row = 0; row < 50; row++) {
				int owners = 0;
				for (int i = 0; i < n; i++) if (new Shard(i, n).contains(row)) owners++;
				assertEquals(1, owners, "row " + row + " with " + n + " shards");
			}
		}
	}

	@Test
	void parsesIOverN() {
		assertEquals(new Shard(2, 8), Shard.parse(" 2/8 "));
		assertEquals("results-shard-2-of-8.jsonl", Shard.parse("2/8").resultsName());
		assertEquals(BatchResults.MERGED, Shard.ALL.resultsName());
		for (String bad : new String[] { "8/8", "-1/4", "1", "a/b", "1/0" }) {
			assertThrows(IllegalArgumentException.class, () -> Shard.parse(bad), bad);
		}
	}

	@Test
	void fromTheSlurmArrayVariables() {
		assertEquals(Shard.ALL, Shard.fromEnvironment(Map.of()));
		assertEquals(new Shard(3, 4), Shard.fromEnvironment(Map.of("SLURM_ARRAY_TASK_ID", "3", "SLURM_ARRAY_TASK_COUNT", "4")));
		// --array=1-4: ids start at 1
		assertEquals(new Shard(0, 4), Shard.fromEnvironment(Map.of("SLURM_ARRAY_TASK_ID", "1", "SLURM_ARRAY_TASK_COUNT",
			"4", "SLURM_ARRAY_TASK_MIN", "1")));
		assertThrows(IllegalArgumentException.class, () -> Shard.fromEnvironment(Map.of("SLURM_ARRAY_TASK_ID", "7",
			"SLURM_ARRAY_TASK_COUNT", "4", "SLURM_ARRAY_TASK_MIN", "1")));
	}
}
