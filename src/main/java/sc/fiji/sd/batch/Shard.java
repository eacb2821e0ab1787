package sc.fiji.sd.batch;

import java.util.Map;

/**
 * The part of a batch one process runs: rows whose index modulo {@code count} is {@code index} (round robin, so shards
 * get a similar mix of rows even when the manifest is sorted by cost). {@code 0/1} is the whole batch.
 */
public record Shard(int index, int count) {

	public static final Shard ALL = new Shard(0, 1);

	public Shard {
		if (count < 1 || index < 0 || index >= count) {
			throw new IllegalArgumentException("A shard is I/N with 0 ≤ I < N, not " + index + "/" + count + ".");
		}
	}

	public boolean contains(int row) {
		return row % count == index;
	}

	/** Name of this shard's results manifest: {@code results.jsonl} for the whole batch. */
	public String resultsName() {
		return count == 1 ? BatchResults.MERGED : "results-shard-" + index + "-of-" + count + ".jsonl";
	}

	/** {@code I/N} as the user writes it. */
	public static Shard parse(String text) {
		String[] parts = text.trim().split("/");
		try {
			if (parts.length == 2) return new Shard(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
		}
		catch (NumberFormatException e) {
			// the message below
		}
		throw new IllegalArgumentException("--shard must be I/N with 0 ≤ I < N (e.g. 2/8), not '" + text + "'.");
	}

	/**
	 * The shard of a SLURM job array task: {@code SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN} of
	 * {@code SLURM_ARRAY_TASK_COUNT} (ids need not start at 0, but must be consecutive: {@code --array=1-8}, not
	 * {@code 1,3,5}); the whole batch outside an array job.
	 */
	public static Shard fromEnvironment(Map<String, String> env) {
		String id = env.get("SLURM_ARRAY_TASK_ID"), count = env.get("SLURM_ARRAY_TASK_COUNT");
		if (id == null || count == null) return ALL;
		String min = env.getOrDefault("SLURM_ARRAY_TASK_MIN", "0");
		try {
			int n = Integer.parseInt(count.trim()), i = Integer.parseInt(id.trim()) - Integer.parseInt(min.trim());
			if (i < 0 || i >= n) {
				throw new IllegalArgumentException("SLURM_ARRAY_TASK_ID " + id + " is not within " + n + " tasks from "
					+ "SLURM_ARRAY_TASK_MIN " + min + ": use a consecutive --array range (e.g. 0-7), or pass --shard I/N.");
			}
			return new Shard(i, n);
		}
		catch (NumberFormatException e) {
			throw new IllegalArgumentException("The SLURM array variables are not numbers (SLURM_ARRAY_TASK_ID=" + id
				+ ", SLURM_ARRAY_TASK_COUNT=" + count + ", SLURM_ARRAY_TASK_MIN=" + min + "); pass --shard I/N.");
		}
	}

	@Override
	public String toString() {
		return index + "/" + count;
	}
}
