package sc.fiji.sd.batch;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.image.ImageFiles;
import sc.fiji.sd.lora.LoraSpec;
import sc.fiji.sd.model.ModelProvider;
import sc.fiji.sd.model.StableDiffusionModel;
import sc.fiji.sd.onnx.ExecutionProviders.Device;
import sc.fiji.sd.onnx.RuntimeOptions;
import sc.fiji.sd.pipeline.GeneratedImage;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationResult;
import sc.fiji.sd.pipeline.StableDiffusionPipeline;
import sc.fiji.sd.provenance.PngWriter;
import sc.fiji.sd.provenance.Provenance;

/**
 * Runs a shard of a batch manifest through the pipeline, one row after the other, writing
 * {@code rowNNNN-imgMM.png} (with the A1111 parameters) and, after each row, the results manifest.
 * <p>
 * Resuming: a row is skipped when every one of its files exists and has the SHA-256 that a results manifest in the
 * folder records for it, with the same row settings; anything else (a missing or changed file, a row killed half-way,
 * an edited row) is generated again. Consecutive rows on the same model share its loaded sessions.
 */
public final class BatchRunner {

	/** What a run did. */
	public record Summary(int rows, int generated, int skipped, int images, Path results) {}

	private final ModelProvider models;
	private final Path outDir;
	private final Path defaultModel;
	private final String device;
	private final PrintWriter log;

	/**
	 * @param models where the rows' models are loaded (the caller's: the command line's, ImageJ's)
	 * @param defaultModel model of rows with no model column
	 * @param log progress lines (stderr in the CLI)
	 */
	public BatchRunner(ModelProvider models, Path outDir, Path defaultModel, String device, PrintWriter log) {
		this.models = models;
		this.outDir = outDir;
		this.defaultModel = defaultModel;
		this.device = device;
		this.log = log;
	}

	public Summary run(List<BatchRow> rows, Shard shard) {
		try {
			Files.createDirectories(outDir);
		}
		catch (IOException e) {
			throw new StableDiffusionException("Cannot create the output folder " + outDir + ": " + e.getMessage(), e);
		}
		removeStaleTemporaries(shard);
		BatchResults results = BatchResults.open(outDir, shard);
		List<BatchRow> mine = new ArrayList<>();
		for (BatchRow r : rows) if (shard.contains(r.index())) mine.add(r);
		log.printf(Locale.ROOT, "batch: %d of %d rows in shard %s, into %s%n", mine.size(), rows.size(), shard, outDir);
		log.flush();

		checkControlNets(mine, defaultModel);
		int generated = 0, skipped = 0, images = 0, position = 0;
		StableDiffusionModel loaded = null;
		StableDiffusionPipeline pipeline = null;
		for (BatchRow row : mine) {
			position++;
			if (done(row, results, outDir)) {
				skipped++;
				log.printf(Locale.ROOT, "[%d/%d] row %d: done before, skipped%n", position, mine.size(), row.index());
				log.flush();
				continue;
			}
			Path folder = row.model() != null ? row.model() : defaultModel;
			// a row with a ControlNet loads it with the model; rows in a row with the same one share the sessions
			StableDiffusionModel model = models.get(new ModelProvider.Key(folder, RuntimeOptions.fromSystemProperties()
				.withDevice(Device.parse(device)), LoraSpec.NONE, row.control() == null ? List.of()
					: List.of(row.control().controlNetFor(folder))));
			if (model != loaded) {
				loaded = model;
				pipeline = new StableDiffusionPipeline(model);
				checkSizes(mine, folder, defaultModel, model);
			}
			long start = System.nanoTime();
			GenerationResult result;
			try {
				GenerationRequest request = request(row, folder, model.info().nativeSize());
				sc.fiji.sd.lora.LoraSet.checkTagsApplied(request.prompt(), model.initializerOverrides()); // no silent drop
				result = pipeline.generate(request, null);
			}
			catch (StableDiffusionException e) {
				throw new StableDiffusionException("Row " + row.index() + " (line " + row.line() + "): " + e.getMessage()
					+ " The rows before it are done and kept; fix the row and run again.", e);
			}
			for (int i = 0; i < result.images().size(); i++) {
				GeneratedImage image = result.images().get(i);
				Path file = outDir.resolve(row.fileName(i));
				PngWriter.write(file, image.pixels(), Provenance.pngText(image.parameters(), model.info().name()));
				results.put(new BatchResults.Entry(row.index(), i, row.fileName(i), BatchResults.sha256(file),
					image.seed(), image.parameters(), row.spec()));
			}
			results.save(shard); // after the row's files: a manifest entry always names a complete file
			generated++;
			images += result.images().size();
			log.printf(Locale.ROOT, "[%d/%d] row %d: %d image(s) in %.1f s -> %s%n", position, mine.size(), row.index(),
				result.images().size(), (System.nanoTime() - start) / 1e9, row.fileName(0));
			log.flush();
		}
		if (generated == 0) results.save(shard); // a manifest even when every row was done (or the shard is empty)
		log.printf(Locale.ROOT, "batch: %d rows generated (%d images), %d skipped as done; results in %s%n", generated,
			images, skipped, results.file());
		log.flush();
		return new Summary(mine.size(), generated, skipped, images, results.file());
	}

	/** Every file of the row exists with the recorded checksum, made from the same row settings. */
	static boolean done(BatchRow row, BatchResults results, Path outDir) {
		for (int i = 0; i < row.count(); i++) {
			BatchResults.Entry e = results.get(row.fileName(i));
			if (e == null || e.row() != row.index() || !row.spec().equals(e.spec())) return false;
			if (!e.sha256().equals(BatchResults.sha256(outDir.resolve(e.file())))) return false;
		}
		return true;
	}

	/** Rows of this model whose size is not a multiple of its size step fail now, before any of them runs. */
	private static void checkSizes(List<BatchRow> rows, Path folder, Path defaultModel, StableDiffusionModel model) {
		int step = model.info().sizeStep();
		List<String> problems = new ArrayList<>();
		for (BatchRow r : rows) {
			Path f = r.model() != null ? r.model() : defaultModel;
			if (!f.toAbsolutePath().normalize().equals(folder.toAbsolutePath().normalize())) continue;
			if (r.width() % step != 0) problems.add("row " + r.index() + " (line " + r.line() + "), column width: " + r.width());
			if (r.height() % step != 0) problems.add("row " + r.index() + " (line " + r.line() + "), column height: " + r.height());
		}
		if (!problems.isEmpty()) {
			throw new BatchManifest.BadManifestException("The model " + model.info().name() + " needs sizes that are "
				+ "multiples of " + step + ":\n  " + String.join("\n  ", problems));
		}
	}

	/** The row's request on the model in {@code folder}; its control image is pre-processed at the output size. */
	static GenerationRequest request(BatchRow row, Path folder, int nativeSize) {
		GenerationRequest.Builder b = GenerationRequest.builder().mode(row.mode()).prompt(row.prompt())
			.negativePrompt(row.negative()).seed(row.seed()).steps(row.steps()).guidance(row.guidance())
			.size(row.width(), row.height()).scheduler(row.scheduler()).batchSize(1).batchCount(row.count())
			.strength(row.strength()).maskFeather(row.feather()).settings(row.settings());
		var image = row.image() == null ? null : ImageFiles.readRgb(row.image());
		if (image != null) b.initImage(image);
		if (row.mask() != null) b.mask(ImageFiles.readMask(row.mask()));
		if (row.control() != null) { // the output's size: the row's, else the image's, else the model's own
			int w = row.width() > 0 ? row.width() : image != null ? (int) image.dimension(0) : nativeSize;
			int h = row.height() > 0 ? row.height() : image != null ? (int) image.dimension(1) : nativeSize;
			b.control(row.control().unit(folder, w, h));
		}
		return b.build();
	}

	/**
	 * Rows whose ControlNet folder is missing (none named and none beside the model) fail now, before any row runs,
	 * each named with the folder looked for and what to give.
	 */
	private static void checkControlNets(List<BatchRow> rows, Path defaultModel) {
		List<String> problems = new ArrayList<>();
		for (BatchRow r : rows) {
			if (r.control() == null || r.control().controlNet() != null) continue;
			Path folder = r.control().controlNetFor(r.model() != null ? r.model() : defaultModel);
			if (folder == null || !Files.isDirectory(folder))
				problems.add("row " + r.index() + " (line " + r.line() + "), column controlnet: empty, and the model has no "
					+ "ControlNet beside it (looked for " + folder + "); give the folder of a ControlNet made for the model");
		}
		if (!problems.isEmpty()) {
			throw new BatchManifest.BadManifestException("No ControlNet for " + problems.size() + " row(s); nothing was "
				+ "generated. Fix:\n  " + String.join("\n  ", problems));
		}
	}

	/** {@link PngWriter}'s temporary name for a row's image: {@code .row0004-img00.png.<hex>.part}. */
	static final Pattern ROW_TEMPORARY = Pattern.compile("^\\.row(\\d+)-img\\d+\\.png\\.[0-9a-f]+\\.part$");

	/**
	 * PNGs half-written when a run of this shard's rows was killed. Only this shard's: the tasks of a job array share
	 * the folder, and another task's file may be a write in progress.
	 */
	private void removeStaleTemporaries(Shard shard) {
		try (DirectoryStream<Path> s = Files.newDirectoryStream(outDir, ".row*.png.*.part")) {
			for (Path p : s) {
				Matcher m = ROW_TEMPORARY.matcher(p.getFileName().toString());
				if (m.matches() && shard.contains(Integer.parseInt(m.group(1)))) Files.deleteIfExists(p);
			}
		}
		catch (IOException e) {
			log.println("batch: note: could not remove unfinished files in " + outDir + ": " + e.getMessage());
		}
	}
}
