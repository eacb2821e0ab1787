package sc.fiji.sd.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import sc.fiji.sd.batch.BatchManifest;
import sc.fiji.sd.batch.BatchResults;
import sc.fiji.sd.batch.BatchRow;
import sc.fiji.sd.batch.BatchRunner;
import sc.fiji.sd.batch.Shard;

/** {@code batch}: many images from a manifest, resumable, sharded for SLURM job arrays; see {@link BatchRunner}. */
@Command(name = "batch", sortOptions = false, mixinStandardHelpOptions = true, description = {
	"Generate many images from a manifest (CSV with a header row, or JSON Lines): one row per prompt, with count images. "
		+ "Outputs are DIR/rowNNNN-imgMM.png (row and image index from 0) with the A1111 parameters, and a results "
		+ "manifest (file, SHA-256, seed, parameters) rewritten atomically after each row. After a crash, run the same "
		+ "command again: rows whose files are there with their recorded checksums are skipped.",
	"", "Columns (JSON keys); empty or missing = the txt2img default:" }, footer = { "",
		"Relative paths in the manifest are relative to its folder. The mode follows the files: image = image to image, "
			+ "image + mask = inpainting, neither = text to image. Every row is checked before anything runs.", "",
		"Cluster: each task of a SLURM job array runs its shard (rows with index modulo the array size = the task's "
			+ "index); then 'batch --merge --out DIR' checks every file's checksum and joins the shards' results into "
			+ "DIR/results.jsonl. See examples/stable-diffusion-array.sbatch." })
class BatchCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	/** The run, which owns the model provider. */
	@CommandLine.ParentCommand
	Main main;

	@Mixin
	VerboseOption verbose;

	@Option(names = "--manifest", paramLabel = "FILE", description = "The rows: FILE.csv or FILE.jsonl.")
	Path manifest;

	@Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (created if needed).")
	Path out;

	@Option(names = "--shard", paramLabel = "I/N", description = "Run only rows with index %% N == I (default: from "
		+ "SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT in an array job, else all rows).")
	String shard;

	@Option(names = "--merge", description = "Join the shards' results manifests in --out into results.jsonl, checking every file's SHA-256.")
	boolean merge;

	@Mixin
	ModelOptions modelOptions;

	/** The environment the shard comes from (tests replace it). */
	Map<String, String> environment = System.getenv();

	/** Adds the column table, from the one the parser uses, to the description in --help. */
	static CommandLine withColumnHelp(CommandLine batch) {
		var usage = batch.getCommandSpec().usageMessage();
		List<String> lines = new ArrayList<>(List.of(usage.description()));
		BatchManifest.COLUMNS.forEach((k, v) -> lines.add(String.format("  %-14s %s", k, v)));
		usage.description(lines.toArray(new String[0]));
		return batch;
	}

	@Override
	public Integer call() {
		PrintWriter err = spec.commandLine().getErr(), stdout = spec.commandLine().getOut();
		if (merge) {
			if (manifest != null || shard != null) throw new Main.UsageException("--merge takes only --out (no --manifest or --shard).");
			BatchResults.Merged m = BatchResults.merge(out);
			stdout.println("Merged " + m.shardManifests().size() + " shard manifest(s): " + m.images() + " image(s), all "
				+ "checksums match; wrote " + m.file());
			stdout.flush();
			return Main.EXIT_OK;
		}
		if (manifest == null) throw new Main.UsageException("Give --manifest FILE.csv|.jsonl (or --merge to join shard results).");
		String device = modelOptions.device();
		Shard part;
		try {
			part = shard != null ? Shard.parse(shard) : Shard.fromEnvironment(environment);
		}
		catch (IllegalArgumentException e) {
			throw new Main.UsageException(e.getMessage());
		}
		List<BatchRow> rows;
		try {
			rows = BatchManifest.read(manifest);
		}
		catch (BatchManifest.BadManifestException e) {
			throw new Main.UsageException(e.getMessage());
		}
		BatchRunner.Summary s = new BatchRunner(main.models(), out, modelOptions.folder(), device, err).run(rows, part);
		stdout.println("Wrote " + s.images() + " image(s) for " + s.generated() + " row(s), skipped " + s.skipped()
			+ " done row(s); results: " + s.results());
		stdout.flush();
		return Main.EXIT_OK;
	}
}
