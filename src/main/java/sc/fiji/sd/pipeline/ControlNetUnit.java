package sc.fiji.sd.pipeline;

import java.nio.file.Path;

import net.imglib2.RandomAccessibleInterval;
import net.imglib2.type.numeric.real.FloatType;

import sc.fiji.sd.StableDiffusionException;

/**
 * One ControlNet of a request: the model, its control image and how strongly and when it acts. Several units act
 * together (their residuals are summed, as diffusers' MultiControlNet does).
 * <p>
 * The control image follows the convention of {@link GenerationRequest#initImage()}: an ImgLib2 interval X × Y × 3
 * (R, G, B) with values in [0, 1], x to the right and y downwards as in ImageJ (front ends convert with their own
 * converters, e.g. {@code ImagePlusConverter}). It is used as the ControlNet sees it: the core does not preprocess it
 * (front ends run the preprocessor named by {@link #module()} first); it is only resized to the output size when its
 * size differs. The image is read, never modified.
 *
 * @param model the ControlNet: its folder (holding {@code model.onnx}) or the {@code .onnx} file itself
 * @param image the control image, X × Y × 3 in [0, 1], already preprocessed
 * @param module the preprocessor that made {@code image}, as A1111's ControlNet extension names it ("none", "canny",
 *        "invert", …); recorded in the parameters text, not applied by the core
 * @param scale A1111's "Weight", diffusers' {@code controlnet_conditioning_scale}: the residuals are multiplied by it
 *        (0 or more; 1 by default)
 * @param start fraction of the steps after which the ControlNet starts acting (diffusers'
 *        {@code control_guidance_start}, A1111's "Guidance Start"), 0 by default
 * @param end fraction of the steps after which it stops acting ({@code control_guidance_end}), 1 by default
 */
public record ControlNetUnit(Path model, RandomAccessibleInterval<FloatType> image, String module, double scale,
	double start, double end)
{

	/** The preprocessor name for a control image used as it is. */
	public static final String NO_PREPROCESSOR = "none";

	public ControlNetUnit {
		module = module == null || module.isBlank() ? NO_PREPROCESSOR : module;
	}

	/**
	 * The checks that need no model: a model and an RGB control image are given, the scale is 0 or more, and
	 * {@code 0 <= start < end <= 1}.
	 *
	 * @param index the unit's place in the request (A1111's "ControlNet 0", "ControlNet 1", …), named in messages
	 * @throws StableDiffusionException naming the unit and what to give instead
	 */
	void check(int index) {
		String name = "ControlNet " + index;
		if (model == null) {
			throw new StableDiffusionException(name + " has no model: give the ControlNet's folder (with model.onnx).");
		}
		if (image == null) {
			throw new StableDiffusionException(name + " (" + model.getFileName() + ") has no control image: give the "
				+ "image whose structure the generated image should follow.");
		}
		if (image.numDimensions() != 3 || image.dimension(2) != 3) {
			throw new StableDiffusionException("The control image of " + name + " must be an RGB image (X × Y × 3); "
				+ "got " + image.numDimensions() + " dimensions. Convert it to RGB first.");
		}
		if (!(scale >= 0) || Double.isInfinite(scale)) {
			throw new StableDiffusionException("The control scale (weight) of " + name + " must be 0 or more, not "
				+ scale + " (1 is the usual strength, 0 turns it off).");
		}
		if (!(start >= 0 && start < end && end <= 1)) {
			throw new StableDiffusionException("The guidance window of " + name + " must satisfy 0 ≤ start < end ≤ 1 "
				+ "(fractions of the steps), not start " + start + ", end " + end + ".");
		}
	}

	/** A unit acting with weight 1 over all steps. */
	public ControlNetUnit(Path model, RandomAccessibleInterval<FloatType> image, String module) {
		this(model, image, module, 1.0, 0.0, 1.0);
	}

	public ControlNetUnit withScale(double v) { return new ControlNetUnit(model, image, module, v, start, end); }

	/** The same unit acting between the fractions {@code from} and {@code to} of the steps. */
	public ControlNetUnit withGuidance(double from, double to) {
		return new ControlNetUnit(model, image, module, scale, from, to);
	}
}
