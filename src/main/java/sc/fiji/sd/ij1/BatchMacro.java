package sc.fiji.sd.ij1;

import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.util.List;

import ij.IJ;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.batch.BatchManifest;
import sc.fiji.sd.batch.BatchResults;
import sc.fiji.sd.batch.BatchRow;
import sc.fiji.sd.batch.BatchRunner;
import sc.fiji.sd.batch.Shard;
import sc.fiji.sd.imagej.ImageJModels;
import sc.fiji.sd.imagej.Settings;
import sc.fiji.sd.model.EmbeddedModel;

/**
 * The CLI's {@code batch} for ImageJ macros (e.g. {@code ImageJ-linux64 --headless -batch}), through the macro
 * function {@code call}, which passes and returns text:
 * <pre>
 * r = call("sc.fiji.sd.ij1.BatchMacro.run", "/data/prompts.csv", "/data/out", "");  // "" = all rows, or SLURM's shard
 * r = call("sc.fiji.sd.ij1.BatchMacro.merge", "/data/out");
 * if (startsWith(r, "error:")) exit(r);
 * </pre>
 * Rows without a model use the folder chosen in Stable Diffusion Settings (or the shipped model); progress goes to
 * the Log window (stdout when headless).
 */
public final class BatchMacro {

	private BatchMacro() {}

	/** Runs a manifest's rows (the shard "I/N", or "" for all rows or the SLURM array task's share) into {@code out}. */
	public static String run(String manifest, String out, String shard) {
		try {
			Shard part = shard == null || shard.isBlank() ? Shard.fromEnvironment(System.getenv()) : Shard.parse(shard);
			List<BatchRow> rows = BatchManifest.read(Path.of(manifest));
			Settings settings = Settings.load();
			BatchRunner.Summary s = new BatchRunner(ImageJModels.provider(), Path.of(out), settings.modelPath(
				EmbeddedModel.path()), settings.device(), new PrintWriter(new LogWriter(), true)).run(rows, part);
			return s.generated() + " rows generated (" + s.images() + " images), " + s.skipped() + " skipped as done; results: "
				+ s.results();
		}
		catch (StableDiffusionException | IllegalArgumentException e) {
			return "error: " + e.getMessage();
		}
	}

	/** Joins the shards' results in {@code out} into results.jsonl after checking every file. */
	public static String merge(String out) {
		try {
			BatchResults.Merged m = BatchResults.merge(Path.of(out));
			return "merged " + m.images() + " images into " + m.file();
		}
		catch (StableDiffusionException e) {
			return "error: " + e.getMessage();
		}
	}

	/** Lines to ImageJ's log. */
	private static final class LogWriter extends Writer {
		private final StringBuilder line = new StringBuilder();

		@Override
		public void write(char[] buf, int off, int len) {
			for (int i = off; i < off + len; i++) {
				if (buf[i] == '\n') {
					IJ.log(line.toString());
					line.setLength(0);
				}
				else if (buf[i] != '\r') line.append(buf[i]);
			}
		}

		@Override
		public void flush() {}

		@Override
		public void close() {
			if (line.length() > 0) IJ.log(line.toString());
		}
	}
}
