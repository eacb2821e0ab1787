package sc.fiji.sd.imagej;

import java.awt.HeadlessException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.Roi;
import ij.process.ImageProcessor;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.control.ControlOptions;
import sc.fiji.sd.control.ControlPreprocessor;
import sc.fiji.sd.control.ControlPreprocessors;
import sc.fiji.sd.hub.HubEnvironment;
import sc.fiji.sd.hub.ModelLocator;
import sc.fiji.sd.image.Resize;
import sc.fiji.sd.model.ControlNetModel;
import sc.fiji.sd.pipeline.ControlNetUnit;

/**
 * The ControlNet image of a run, taken from ImageJ: the current selection as a white-on-black mask
 * ({@code control=[selection]}) or an open image's displayed slice ({@code control=[title]}), preprocessed
 * ({@code control_type}) at the output size. The source image is only read: its pixels are copied when the run
 * starts, so neither the image nor its selection changes, and closing or editing it mid-run changes nothing.
 * <p>
 * The ControlNet model ({@code controlnet}): a folder with {@code model.onnx}; left empty, the folder beside the
 * base model's named {@code <base model folder>-controlnet} (e.g. {@code models/tiny-sd-shapes-controlnet} beside
 * {@code models/tiny-sd-shapes}), where a ControlNet made for that base model is shipped or put by the user.
 */
public final class ControlImages {

	/** {@code control=none}: no ControlNet. */
	public static final String NONE = "none";
	/** {@code control=[selection]}: the active image's selection, white inside on black. */
	public static final String SELECTION = "selection";
	/** The default ControlNet folder's name is the base model folder's plus this. */
	public static final String MODEL_SUFFIX = ControlNetModel.BESIDE_SUFFIX;

	/** Where the images are: ImageJ's windows (and a macro's batch-mode images), or a test's. */
	public interface OpenImages {
		/** The open image of that title, or null. */
		ImagePlus byTitle(String title);

		/** The active image, or null. */
		ImagePlus current();

		/** Titles of the open images, for the dialog's drop-down and messages. */
		String[] titles();

		OpenImages IMAGEJ = new OpenImages() {
			@Override
			public ImagePlus byTitle(String title) {
				return WindowManager.getImage(title);
			}

			@Override
			public ImagePlus current() {
				return WindowManager.getCurrentImage();
			}

			@Override
			public String[] titles() {
				String[] t = WindowManager.getImageTitles();
				return t == null ? new String[0] : t;
			}
		};
	}

	private ControlImages() {}

	/** True when the options ask for a ControlNet ({@code control} neither empty nor {@code none}). */
	public static boolean requested(Parameters p) {
		return p.control != null && !p.control.isBlank() && !p.control.trim().equalsIgnoreCase(NONE);
	}

	/** The choices of the dialogs' control drop-down: none, selection, then the open images' titles. */
	public static String[] choices(OpenImages images) {
		List<String> c = new java.util.ArrayList<>(List.of(NONE, SELECTION));
		c.addAll(Arrays.asList(images.titles()));
		return c.toArray(new String[0]);
	}

	/**
	 * The default ControlNet folder for a base model folder: its sibling {@code <name>-controlnet}, the core's rule
	 * ({@link ControlNetModel#besideModel}), which also finds the embedded model's ControlNet.
	 */
	public static Path defaultModel(Path baseModel) {
		return ControlNetModel.besideModel(baseModel);
	}

	/**
	 * Checks the control options and reads the control source (null when none is asked for), before anything slow.
	 *
	 * @param input the command's image (image to image, inpainting), else null: the active image then gives the
	 *        selection
	 * @param baseModel the loaded base model's folder (for the default ControlNet), or null when unknown
	 * @throws StableDiffusionException saying what to give instead
	 */
	static Control read(Parameters p, ImagePlus input, OpenImages images, Path baseModel) {
		if (!requested(p)) return null;
		ImagePlus source = source(p, input, images);
		ControlPreprocessor preprocessor = ControlPreprocessors.get(p.control_type);
		ControlOptions options = new ControlOptions(p.control_low, p.control_high);
		Path model = model(p, baseModel);
		if (p.control.trim().equalsIgnoreCase(SELECTION))
			return new Control(p, selectionMask(source), "the selection on \"" + source.getTitle() + "\"", true,
				preprocessor, options, model);
		boolean labels = preprocessor.nearestResize() && source.getType() != ImagePlus.COLOR_RGB;
		var pixels = labels ? foreground(source) : ImagePlusConverter.toRgb(source);
		return new Control(p, pixels, "\"" + source.getTitle() + "\"", labels, preprocessor, options, model);
	}

	/**
	 * The checks that need no model, for the front ends to make before one loads (which can take a minute): the
	 * control image is there (a selection, an open image), the preprocessor is known, its thresholds make sense.
	 *
	 * @param input the command's image, else null (the active image gives the selection)
	 */
	public static void check(Parameters p, ImagePlus input) {
		if (requested(p)) source(p, input, OpenImages.IMAGEJ);
	}

	/** The image the control comes from, checked (with the options that need no model); its selection checked too. */
	private static ImagePlus source(Parameters p, ImagePlus input, OpenImages images) {
		ControlPreprocessors.get(p.control_type);
		new ControlOptions(p.control_low, p.control_high).validate();
		String control = p.control.trim();
		if (control.equalsIgnoreCase(SELECTION)) {
			ImagePlus active = input != null ? input : images.current();
			checkSelection(active);
			return active;
		}
		checkSource(control, images);
		return images.byTitle(control);
	}

	/**
	 * Checks that {@code control} is none, selection or an open image's title (a dialog run by a macro would
	 * otherwise only say that it is not one of the choices).
	 */
	public static void checkSource(String control, OpenImages images) {
		String c = control == null ? "" : control.trim();
		if (c.isEmpty() || c.equalsIgnoreCase(NONE) || c.equalsIgnoreCase(SELECTION) || images.byTitle(c) != null)
			return;
		throw new StableDiffusionException("No open image is titled \"" + c + "\" (control=[" + c + "]). Open it, "
			+ "or choose one of: " + String.join(", ", choices(images)) + " (selection: the current selection as a "
			+ "mask).");
	}

	/** The ControlNet folder: {@code controlnet}, or the default beside the base model; checked to exist. */
	static Path model(Parameters p, Path baseModel) {
		String given = p.controlnet == null ? "" : p.controlnet.trim();
		if (given.isEmpty()) {
			Path folder = defaultModel(baseModel);
			if (folder == null || !Files.exists(folder))
				throw new StableDiffusionException("No ControlNet is given and there is none beside the model"
					+ (folder == null ? "" : " (looked for " + folder + ")") + ". Give the folder of a ControlNet "
					+ "export (with model.onnx) made for this base model as controlnet=[folder].");
			return folder;
		}
		Path folder = ModelLocator.resolve(given, HubEnvironment.fromSystem()).orElse(Path.of(given));
		if (!Files.exists(folder))
			throw new StableDiffusionException("The ControlNet folder " + folder + " (controlnet=) does not exist. "
				+ "Give the folder of a ControlNet export (with model.onnx), or leave it empty for the one beside the "
				+ "model" + (defaultModel(baseModel) == null ? "" : " (" + defaultModel(baseModel) + ")") + ".");
		return folder;
	}

	/** The area selection of {@code imp} (checked) as X × Y × 3, white (1) inside, black outside. */
	private static ArrayImg<FloatType, FloatArray> selectionMask(ImagePlus imp) {
		float[] mask = ImagePlusConverter.roiMask(imp).update(null).getCurrentStorageArray();
		return grey(mask, imp.getWidth(), imp.getHeight());
	}

	private static void checkSelection(ImagePlus imp) {
		if (imp == null) throw new StableDiffusionException("control=[selection] uses the selection of the active "
			+ "image, and no image is open. Open an image, draw a selection (e.g. makeOval) and run the command again.");
		Roi roi = imp.getRoi();
		if (roi == null || !roi.isArea())
			throw new StableDiffusionException("control=[selection] uses the selection of the active image \""
				+ imp.getTitle() + "\", which has " + (roi == null ? "none" : "a " + roi.getTypeAsString()
					.toLowerCase(Locale.ROOT) + " selection, not an area") + ". Draw an area (rectangle, oval, polygon "
				+ "or freehand, e.g. makeOval(...)), or choose an image as the control.");
	}

	/**
	 * A binary mask or label image of the displayed slice as 0/1 grey (any non-zero raw value is 1): raw values, not
	 * through the display range, which may show label 1 as black, nor the LUT, which shows ImageJ's binary masks
	 * (255 = object) inverted.
	 */
	private static ArrayImg<FloatType, FloatArray> foreground(ImagePlus imp) {
		ImagePlusConverter.Position at = ImagePlusConverter.currentPosition(imp);
		int channel = imp.isComposite() ? imp.convertIndexToPosition(imp.getCurrentSlice())[0] : 1;
		ImageProcessor ip = imp.getStack().getProcessor(imp.getStackIndex(channel, at.slice(), at.frame()));
		float[] out = new float[imp.getWidth() * imp.getHeight()];
		for (int i = 0; i < out.length; i++)
			out[i] = ip.getf(i) != 0 ? 1 : 0;
		return grey(out, imp.getWidth(), imp.getHeight());
	}

	private static ArrayImg<FloatType, FloatArray> grey(float[] plane, int w, int h) {
		float[] rgb = new float[3 * plane.length];
		for (int c = 0; c < 3; c++)
			System.arraycopy(plane, 0, rgb, c * plane.length, plane.length);
		return ArrayImgs.floats(rgb, w, h, 3);
	}

	/** The control of one run: its source pixels, read once, and the unit for each output size. */
	static final class Control {

		private final Parameters p;
		private final ArrayImg<FloatType, FloatArray> source;
		private final String name;
		private final boolean hardEdges;
		private final ControlPreprocessor preprocessor;
		private final ControlOptions options;
		private final Path model;
		private ArrayImg<FloatType, FloatArray> prepared;
		private boolean shown;

		Control(Parameters p, ArrayImg<FloatType, FloatArray> source, String name, boolean hardEdges,
			ControlPreprocessor preprocessor, ControlOptions options, Path model) {
			this.p = p;
			this.source = source;
			this.name = name;
			this.hardEdges = hardEdges;
			this.preprocessor = preprocessor;
			this.options = options;
			this.model = model;
		}

		/** The source pixels as read (X × Y × 3), for the checks that need no model. */
		ArrayImg<FloatType, FloatArray> source() {
			return source;
		}

		/**
		 * The ControlNet unit for an output of {@code width} × {@code height}: the control image preprocessed at that
		 * size (resized first when the source has another size, which the Log says once), shown as its own window
		 * the first time when {@code show_control} is on.
		 */
		ControlNetUnit unit(int width, int height) {
			if (prepared == null || prepared.dimension(0) != width || prepared.dimension(1) != height) {
				int w = (int) source.dimension(0), h = (int) source.dimension(1);
				if (w != width || h != height) IJ.log(String.format(Locale.ROOT, "Stable Diffusion: the control image "
					+ "(%s) is %d×%d; it was resized to %d×%d, the size of the output.", name, w, h, width, height));
				var sized = hardEdges && (w != width || h != height) ? Resize.nearest(source, width, height) : source;
				prepared = ControlPreprocessors.prepare(sized, preprocessor, options, width, height);
				if (p.show_control && !shown) show();
			}
			return new ControlNetUnit(model, prepared, preprocessor.name(), p.control_scale, p.control_start,
				p.control_end);
		}

		/** The unit with the source as read, for the request checks before a size is known. */
		ControlNetUnit forChecks() {
			return new ControlNetUnit(model, source, preprocessor.name(), p.control_scale, p.control_start,
				p.control_end);
		}

		/** Opens the preprocessed control image, so users see what the model sees. */
		private void show() {
			shown = true;
			ImagePlus window = ImagePlusConverter.toImagePlus("Control (" + preprocessor.name() + ") of " + name
				.replace("\"", ""), List.of(prepared));
			try {
				window.show();
			}
			catch (HeadlessException e) {
				IJ.log("Stable Diffusion: show_control: there is no display to show the control image on.");
			}
		}
	}
}
