package sc.fiji.sd.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

import net.imglib2.img.Img;
import net.imglib2.type.numeric.real.FloatType;

import picocli.CommandLine.Option;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.control.ControlOptions;
import sc.fiji.sd.control.ControlPreprocessor;
import sc.fiji.sd.control.ControlPreprocessors;
import sc.fiji.sd.image.ImageFiles;
import sc.fiji.sd.model.ControlNetModel;
import sc.fiji.sd.pipeline.ControlNetUnit;
import sc.fiji.sd.pipeline.GenerationRequest;

/**
 * One ControlNet of a generating sub-command, an argument group repeated for several: {@code --controlnet DIR
 * --control IMAGE [--control-type TYPE] [--control-scale S] [--control-start A] [--control-end B]
 * [--control-low L --control-high H]}. The image is read before the model loads (a missing file is a usage error) and
 * preprocessed at the output size once the model is known.
 */
class ControlNetOptions {

	// Defaults as initial values, not defaultValue: picocli applies a repeated group's defaultValue to a group instance
	// that does not exist when the group is not given (PicocliException "Could not get value for field"). So the help
	// says them in words: ${DEFAULT-VALUE} would print null.

	@Option(names = "--controlnet", paramLabel = "DIR", description = "A ControlNet (OnnxStack's "
		+ "layout: a folder with model.onnx) made for the model; the model folder needs controlnet/model.onnx. Repeat "
		+ "the group (--controlnet … --control …) for several. Default: the folder beside the model named "
		+ "<model folder>-controlnet (the embedded model's own ControlNet).")
	Path model;

	@Option(names = "--control", required = true, paramLabel = "IMAGE", description = "The control image of the "
		+ "--controlnet before it: edges, a mask, a scribble…")
	Path image;

	@Option(names = "--control-type", paramLabel = "TYPE", completionCandidates = ControlTypeNames.class,
		description = "Preprocessor for the control image: ${COMPLETION-CANDIDATES} (scribble for scribble_xdog; "
		+ "default: none).")
	String type = ControlPreprocessors.DEFAULT;

	@Option(names = "--control-scale", paramLabel = "S", description = "ControlNet weight, 0 "
		+ "(off) or more (default: 1).")
	double scale = 1;

	@Option(names = "--control-start", paramLabel = "A", description = "Fraction of the steps "
		+ "after which it starts acting (default: 0).")
	double start = 0;

	@Option(names = "--control-end", paramLabel = "B", description = "Fraction of the steps "
		+ "after which it stops acting (default: 1).")
	double end = 1;

	@Option(names = "--control-low", paramLabel = "L", description = "canny: low threshold, "
		+ "0–255 (default: 100).")
	double low = 100;

	@Option(names = "--control-high", paramLabel = "H", description = "canny: high threshold, "
		+ "0–255 (default: 200).")
	double high = 200;

	/** The image as read, before preprocessing. */
	private Img<FloatType> source;

	/**
	 * Checks the groups and reads their images before any model loads: an unknown type, a missing ControlNet folder
	 * or image, bad thresholds are usage errors (exit code 2). The units carry the unprocessed images until
	 * {@link #preprocessed}.
	 */
	static List<ControlNetUnit> read(List<ControlNetOptions> groups, Supplier<Path> baseModel) {
		List<ControlNetUnit> units = new ArrayList<>();
		for (ControlNetOptions g : groups) {
			try {
				ControlPreprocessor p = ControlPreprocessors.get(g.type);
				new ControlOptions(g.low, g.high).validate();
				if (g.model == null) g.model = besideModel(g.image, baseModel.get());
				if (!Files.exists(g.model)) {
					throw new StableDiffusionException("--controlnet " + g.model + ": the ControlNet does not exist.");
				}
				g.source = ImageFiles.readRgb(g.image);
				units.add(new ControlNetUnit(g.model, g.source, p.name(), g.scale, g.start, g.end));
			}
			catch (StableDiffusionException e) {
				throw new Main.UsageException(e.getMessage());
			}
		}
		return units;
	}

	/** The ControlNet of a group without --controlnet: the one beside the model, which must exist. */
	private static Path besideModel(Path image, Path baseModel) {
		Path folder = ControlNetModel.besideModel(baseModel);
		if (folder == null || !Files.isDirectory(folder)) {
			throw new StableDiffusionException("--control " + image + " has no --controlnet, and the model has no "
				+ "ControlNet beside it" + (folder == null ? "" : " (looked for " + folder + ")") + ". Give --controlnet DIR "
				+ "(a ControlNet made for this model: a folder with model.onnx) before --control.");
		}
		return folder;
	}

	/** The ControlNet folders, in order, for the model's key. */
	static List<Path> folders(List<ControlNetOptions> groups) {
		return groups.stream().map(g -> g.model).toList();
	}

	/**
	 * The request with every control image preprocessed at the output size: the request's size, else the input
	 * image's, else the model's native size; {@code log} is told of each image resized.
	 */
	static GenerationRequest preprocessed(List<ControlNetOptions> groups, GenerationRequest request, int nativeSize,
		Consumer<String> log)
	{
		if (groups.isEmpty()) return request;
		int w = request.width() > 0 ? request.width()
			: request.initImage() != null ? (int) request.initImage().dimension(0) : nativeSize;
		int h = request.height() > 0 ? request.height()
			: request.initImage() != null ? (int) request.initImage().dimension(1) : nativeSize;
		List<ControlNetUnit> units = new ArrayList<>();
		for (int i = 0; i < groups.size(); i++) {
			ControlNetOptions g = groups.get(i);
			ControlNetUnit u = request.controls().get(i);
			ControlPreprocessor p = ControlPreprocessors.get(u.module());
			if (g.source.dimension(0) != w || g.source.dimension(1) != h) {
				log.accept("ControlNet " + i + ": control image " + g.image + " (" + g.source.dimension(0) + "x"
					+ g.source.dimension(1) + ") resized to the output size " + w + "x" + h);
			}
			units.add(new ControlNetUnit(u.model(), ControlPreprocessors.prepare(g.source, p, new ControlOptions(g.low,
				g.high), w, h), u.module(), u.scale(), u.start(), u.end()));
		}
		return request.toBuilder().controls(units).build();
	}
}
