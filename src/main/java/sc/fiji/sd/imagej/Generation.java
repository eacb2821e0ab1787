package sc.fiji.sd.imagej;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import ij.ImagePlus;
import ij.ImageStack;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.image.Masks;
import sc.fiji.sd.image.Outpainting;
import sc.fiji.sd.image.Resize;
import sc.fiji.sd.pipeline.GeneratedImage;
import sc.fiji.sd.pipeline.GenerationRequest;
import sc.fiji.sd.pipeline.GenerationRequest.Mode;
import sc.fiji.sd.pipeline.GenerationResult;
import sc.fiji.sd.pipeline.Seeds;

/**
 * The one code path behind every menu command, in Fiji (SciJava commands) and in plain ImageJ 1.x (PlugIns):
 * dialog values → {@link GenerationRequest} → pipeline → an RGB ImagePlus with its provenance.
 * <p>
 * The input image is only read. Sizes the model cannot take (not a multiple of its size step) are resized for the
 * model and the result is resized back; inpainting then pastes the generated pixels into the original through the
 * (feathered) selection, so pixels outside it are exactly the input's.
 */
public final class Generation {

	/** The property (ImagePlus.getProperty) holding the A1111 "parameters" text of the first image. */
	public static final String PARAMETERS_PROPERTY = "parameters";

	/** First line of every result's Info: the image is machine-made. */
	public static final String AI_GENERATED = "AI-generated image (Stable Diffusion for Fiji)";

	private final ImageGenerator generator;
	private final ControlImages.OpenImages images;

	public Generation(ImageGenerator generator) {
		this(generator, ControlImages.OpenImages.IMAGEJ);
	}

	/** {@code images}: where a control image is found by title, and the active image for its selection. */
	Generation(ImageGenerator generator, ControlImages.OpenImages images) {
		this.generator = generator;
		this.images = images;
	}

	/** The result of a run: the image (null when nothing finished) and whether Esc stopped it. */
	public record Outcome(ImagePlus image, boolean interrupted) {}

	/**
	 * Runs one command.
	 *
	 * @param p the options; a seed of −1 is replaced by the seed drawn, so the caller can record what was used
	 * @param input the active image (image to image, inpainting); ignored for text to image
	 */
	public Outcome run(Parameters p, ImagePlus input, ImageJProgress progress) {
		ImagePlus selectionSource = input; // whose selection control=[selection] takes
		if (p.outpaint()) {
			checkInput(p.mode, true, input); // an image, no selection needed
			selectionSource = OutpaintCanvas.selectionOnCanvas(input, p.sides()); // not the new area's selection
			input = OutpaintCanvas.extend(input, p.sides()); // the new area is the selection to inpaint
		}
		checkInput(p.mode, input);
		ControlImages.Control control = ControlImages.read(p, selectionSource, images, generator.modelFolder());
		validate(p, control);
		p.seed = Seeds.resolve(p.seed);
		if (p.variation > 0) p.subseed = Seeds.resolve(p.subseed); // recorded and written as used
		if (p.mode == Mode.TEXT_TO_IMAGE) {
			GenerationResult r = textToImage(p, control, progress);
			if (r.images().isEmpty()) return new Outcome(null, r.interrupted());
			return new Outcome(toImagePlus(p, r.images()), r.interrupted());
		}
		var positions = p.stack ? ImagePlusConverter.positions(input) : List.of(ImagePlusConverter.currentPosition(input));
		ArrayImg<FloatType, FloatArray> mask = p.mode == Mode.INPAINT ? ImagePlusConverter.roiMask(input) : null;
		float[] alpha = mask == null ? null
			: Masks.featherInside(Masks.binary(mask), input.getWidth(), input.getHeight(), p.feather);
		boolean typed = GreyLevels.keepsType(p, input);
		// Each channel of a composite, or one part per position: the displayed channel (channel 0: merged, as shown).
		int[] channels = GreyLevels.eachChannel(p, input) ? java.util.stream.IntStream.rangeClosed(1,
			input.getNChannels()).toArray() : new int[] { input.isComposite() ? input.convertIndexToPosition(input.getCurrentSlice())[0] : 1 };
		List<GeneratedImage> images = new ArrayList<>();
		List<ij.process.ImageProcessor> slices = new ArrayList<>();
		boolean interrupted = false;
		int parts = positions.size() * channels.length, part = 0;
		for (int i = 0; i < positions.size() && !interrupted; i++) {
			List<List<GeneratedImage>> perChannel = new ArrayList<>();
			List<List<ij.process.ImageProcessor>> perChannelSlices = new ArrayList<>();
			for (int c = 0; c < channels.length && !interrupted; c++) {
				progress.startPart(part++, parts);
				var position = positions.get(i);
				var rgb = typed ? GreyLevels.toGreyRgb(input, channels[c], position)
					: ImagePlusConverter.toRgb(input, position);
				GenerationResult r = imageToImage(p, rgb, mask, control, progress);
				interrupted = r.interrupted();
				List<GeneratedImage> done = new ArrayList<>();
				List<ij.process.ImageProcessor> typedDone = new ArrayList<>();
				for (GeneratedImage g : r.images()) {
					if (typed) typedDone.add(GreyLevels.toProcessor(GreyLevels.processor(input, channels[c], position),
						GreyLevels.displayRange(input, channels[c]), g.pixels(), alpha));
					// Inpainting pastes at the user's resolution with the same feathering and paste as the pipeline
					// (image/Masks): the soft edge lies inside the selection only, so pixels outside are the input's.
					GeneratedImage shown = alpha == null || typed ? g
						: new GeneratedImage(Masks.paste(rgb, g.pixels(), alpha), g.seed(), g.parameters());
					done.add(p.outpaint() ? new GeneratedImage(shown.pixels(), shown.seed(),
						Outpainting.parameters(shown.parameters(), p.sides())) : shown);
				}
				perChannel.add(done);
				perChannelSlices.add(typedDone);
			}
			// Stack order: position, then batch image, then channel (channels fastest, as ImageJ's hyperstacks).
			int complete = perChannel.stream().mapToInt(List::size).min().orElse(0);
			if (perChannel.size() < channels.length) complete = 0; // a position stopped part-way is dropped whole
			for (int b = 0; b < complete; b++)
				for (int c = 0; c < channels.length; c++) {
					images.add(perChannel.get(c).get(b));
					if (typed) slices.add(perChannelSlices.get(c).get(b));
				}
		}
		if (images.isEmpty()) return new Outcome(null, interrupted);
		String title = title(p.prompt, images.get(0).seed());
		ImagePlus result;
		if (typed) {
			int perPosition = images.size() / channels.length;
			boolean keepZt = p.stack && p.batch == 1 && perPosition == input.getNSlices() * input.getNFrames();
			result = GreyLevels.toImagePlus(title, input, slices, channels.length,
				keepZt ? input.getNSlices() : perPosition, keepZt ? input.getNFrames() : 1);
			provenance(result, images);
		}
		else {
			result = toImagePlus(p, images);
			result.setCalibration(GreyLevels.spatialCalibration(input));
		}
		return new Outcome(result, interrupted);
	}

	/**
	 * Says what is missing before anything slow happens (model loading): an image for image to image and inpainting,
	 * an area selection for inpainting.
	 */
	public static void checkInput(Mode mode, ImagePlus input) {
		checkInput(mode, false, input);
	}

	/**
	 * As {@link #checkInput(Mode, ImagePlus)}; {@code outpaint}: Outpaint... (an inpainting of the extended canvas),
	 * which needs an image but no selection, and is named so in the message.
	 */
	public static void checkInput(Mode mode, boolean outpaint, ImagePlus input) {
		if (mode == Mode.TEXT_TO_IMAGE) return;
		String command = outpaint ? "Outpaint" : modeName(mode);
		if (input == null)
			throw new StableDiffusionException(command + " works on an image, and none is open. Open an image "
				+ "and run " + command + "... again.");
		if (mode == Mode.INPAINT && !outpaint) ImagePlusConverter.roiMask(input);
	}

	/**
	 * The core's rules ({@link GenerationRequest#validate}: the same as the command line's) on the request the options
	 * map to. Any positive size is resized here to the model's size step, so before a model is known only a size's
	 * sign is checked; the model's limits follow when the request is planned.
	 */
	static void validate(Parameters p, ControlImages.Control control) {
		var request = request(p).size(Math.min(p.width, 0), Math.min(p.height, 0)).maskFeather(p.mode == Mode.INPAINT
			? p.feather : 0);
		if (control != null) request.control(control.forChecks()); // scale and window, named as the core names them
		request.build().validate();
	}

	/** The request the options map to (sizes, images and mask are added per part). */
	private static GenerationRequest.Builder request(Parameters p) {
		return GenerationRequest.builder().mode(p.mode).prompt(p.prompt).negativePrompt(p.negative).steps(p.steps)
			.guidance(p.guidance).seed(p.seed).scheduler(Generators.schedulerForRequest(p.scheduler)).batchSize(1).batchCount(p.batch).strength(p.strength)
			.variationSeed(p.subseed).variationStrength(p.variation).tileSize(p.tile)
			.refinerSwitch(p.refiner == null || p.refiner.isBlank() ? 0 : p.refiner_switch).settings(p.settings);
	}

	private GenerationResult textToImage(Parameters p, ControlImages.Control control, ImageJProgress progress) {
		int step = generator.sizeStep();
		int w = p.width > 0 ? p.width : generator.nativeSize();
		int h = p.height > 0 ? p.height : generator.nativeSize();
		int mw = Resize.toMultiple(w, step), mh = Resize.toMultiple(h, step);
		var request = request(p).size(mw, mh);
		if (control != null) request.control(control.unit(mw, mh));
		GenerationResult r = generator.generate(request.build(), p.hiresOptions(), progress);
		if (mw == w && mh == h || p.hiresOptions().active()) return r; // hires: the upscaled model size as it is
		return resized(r, w, h);
	}

	private GenerationResult imageToImage(Parameters p, ArrayImg<FloatType, FloatArray> rgb,
		ArrayImg<FloatType, FloatArray> mask, ControlImages.Control control, ImageJProgress progress) {
		int step = generator.sizeStep();
		int w = (int) rgb.dimension(0), h = (int) rgb.dimension(1);
		int mw = Resize.toMultiple(w, step), mh = Resize.toMultiple(h, step);
		boolean resize = mw != w || mh != h;
		var builder = request(p).size(mw, mh).initImage(resize ? Resize.bilinear(rgb, mw, mh) : rgb);
		// The pipeline pastes through the hard mask (feather 0) at its size; the soft edge is made below, once.
		if (mask != null) builder.mask(resize ? Resize.nearest(mask, mw, mh) : mask).maskFeather(0);
		if (control != null) builder.control(control.unit(mw, mh)); // the model's size, as the init image
		GenerationResult r = generator.generate(builder.build(), progress);
		return resize ? resized(r, w, h) : r; // the caller pastes into the original, at the user's resolution
	}

	private static GenerationResult resized(GenerationResult r, int w, int h) {
		List<GeneratedImage> out = new ArrayList<>();
		for (GeneratedImage g : r.images())
			out.add(new GeneratedImage(Resize.bilinear(g.pixels(), w, h), g.seed(), g.parameters()));
		return new GenerationResult(out, r.interrupted(), r.seconds());
	}

	/** The result window: an RGB image (a stack for several), titled with prompt and seed, carrying its provenance. */
	static ImagePlus toImagePlus(Parameters p, List<GeneratedImage> images) {
		List<RandomAccessibleInterval<FloatType>> pixels = new ArrayList<>();
		for (GeneratedImage g : images)
			pixels.add(g.pixels());
		ImagePlus imp = ImagePlusConverter.toImagePlus(title(p.prompt, images.get(0).seed()), pixels);
		provenance(imp, images);
		return imp;
	}

	/** Slice labels (seed, then the full parameters), the Info and the parameters property of a result. */
	static void provenance(ImagePlus imp, List<GeneratedImage> images) {
		ImageStack stack = imp.getStack();
		if (images.size() > 1) {
			for (int i = 0; i < images.size(); i++) // short label, then the full provenance (ImageJ shows the first line)
				stack.setSliceLabel("seed " + images.get(i).seed() + "\n" + images.get(i).parameters(), i + 1);
		}
		imp.setProperty("Info", info(images));
		imp.setProperty(PARAMETERS_PROPERTY, images.get(0).parameters());
	}

	/** "<prompt> (seed N)"; long prompts are shortened, an empty one reads "Stable Diffusion". */
	public static String title(String prompt, long seed) {
		String text = prompt == null ? "" : prompt.replaceAll("\\s+", " ").trim();
		if (text.isEmpty()) text = "Stable Diffusion";
		if (text.length() > 60) text = text.substring(0, 57) + "...";
		return text + " (seed " + seed + ")";
	}

	/** The Info text: an "AI-generated" line, then each image's A1111 parameters (kept in TIFF files by ImageJ). */
	static String info(List<GeneratedImage> images) {
		StringBuilder sb = new StringBuilder(AI_GENERATED).append('\n');
		for (int i = 0; i < images.size(); i++) {
			if (images.size() > 1) sb.append(String.format(Locale.ROOT, "%nImage %d (slice %d):%n", i + 1, i + 1));
			sb.append("parameters: ").append(images.get(i).parameters()).append('\n');
		}
		return sb.toString();
	}

	public static String modeName(Mode mode) {
		return switch (mode) {
			case TEXT_TO_IMAGE -> "Text to Image";
			case IMAGE_TO_IMAGE -> "Image to Image";
			case INPAINT -> "Inpaint";
		};
	}
}
