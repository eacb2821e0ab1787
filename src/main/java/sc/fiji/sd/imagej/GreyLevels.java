package sc.fiji.sd.imagej;

import java.util.List;

import ij.CompositeImage;
import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.process.ImageProcessor;
import ij.process.LUT;
import net.imglib2.RandomAccess;
import net.imglib2.RandomAccessibleInterval;
import net.imglib2.img.array.ArrayImg;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.img.basictypeaccess.array.FloatArray;
import net.imglib2.type.numeric.real.FloatType;
import net.imglib2.view.Views;

/**
 * Results in the input's own type for 8-, 16- and 32-bit images (the default, {@code output=[Same as input]}).
 * <p>
 * Going in, a channel's grey values are mapped through its display range ([min, max] → [0, 1], clipped) and given
 * to the model as grey RGB (R = G = B). The LUT is not applied: the model works on the values, and the result
 * carries the input's LUT, so an 8-bit image with a "Fire" or inverted LUT looks the same and keeps the meaning of
 * its values. Coming back, the RGB output is reduced to luminance with the Rec.601 weights (0.299, 0.587, 0.114:
 * ImageJ's "weighted" RGB → grey conversion; fixed rather than ImageJ's global option so a result does not depend on
 * an Edit › Options setting), then mapped from [0, 1] back to [min, max] (rounded and clipped for 8 and 16 bit).
 * <p>
 * Inpainting pastes in the type's own values: where the paste weight is 0 (outside the selection) the input's pixel
 * is copied, so those pixels are bit-identical; the feathered edge mixes the input's and the generated values.
 */
final class GreyLevels {

	static final double RED = 0.299, GREEN = 0.587, BLUE = 0.114;

	private GreyLevels() {}

	/** Whether a run on {@code input} gives results of its own type (a grey image or each channel of a composite). */
	static boolean keepsType(Parameters p, ImagePlus input) {
		if (input == null || input.getType() == ImagePlus.COLOR_RGB || Parameters.RGB.equals(p.output)) return false;
		return !input.isComposite() || eachChannel(p, input);
	}

	/** Whether a composite image is run channel by channel. */
	static boolean eachChannel(Parameters p, ImagePlus input) {
		return input.isComposite() && Parameters.EACH.equals(p.channels);
	}

	/** The stack processor of one channel at a position. */
	static ImageProcessor processor(ImagePlus imp, int channel, ImagePlusConverter.Position p) {
		return imp.getStack().getProcessor(imp.getStackIndex(channel, p.slice(), p.frame()));
	}

	/** The display range of a channel: its own LUT's for a composite, the image's otherwise. */
	static double[] displayRange(ImagePlus imp, int channel) {
		if (imp.isComposite()) {
			LUT lut = ((CompositeImage) imp).getChannelLut(channel);
			return new double[] { lut.min, lut.max };
		}
		return new double[] { imp.getDisplayRangeMin(), imp.getDisplayRangeMax() };
	}

	/** One channel at a position as grey RGB in [0, 1], through its display range (no LUT). */
	static ArrayImg<FloatType, FloatArray> toGreyRgb(ImagePlus imp, int channel, ImagePlusConverter.Position p) {
		ImageProcessor ip = processor(imp, channel, p);
		double[] range = displayRange(imp, channel);
		double width = range[1] > range[0] ? range[1] - range[0] : 1;
		int n = imp.getWidth() * imp.getHeight();
		float[] rgb = new float[3 * n];
		for (int i = 0; i < n; i++) {
			float v = (float) Math.min(1, Math.max(0, (ip.getf(i) - range[0]) / width));
			rgb[i] = rgb[n + i] = rgb[2 * n + i] = v;
		}
		return ArrayImgs.floats(rgb, imp.getWidth(), imp.getHeight(), 3);
	}

	/**
	 * The generated RGB image as a processor of the original's type: luminance mapped back through the display
	 * range; pasted into the original with {@code alpha} (null: no paste, every pixel generated).
	 */
	static ImageProcessor toProcessor(ImageProcessor original, double[] range,
		RandomAccessibleInterval<FloatType> generated, float[] alpha) {
		int w = original.getWidth(), h = original.getHeight();
		double width = range[1] > range[0] ? range[1] - range[0] : 1;
		boolean integer = original.getBitDepth() != 32;
		double maxValue = original.getBitDepth() == 8 ? 255 : 65535;
		ImageProcessor out = original.duplicate(); // outside the paste: the original values, bit for bit
		RandomAccess<FloatType> ra = Views.zeroMin(generated).randomAccess();
		for (int y = 0; y < h; y++) {
			ra.setPosition(y, 1);
			for (int x = 0; x < w; x++) {
				int i = y * w + x;
				float a = alpha == null ? 1f : alpha[i];
				if (a <= 0f) continue;
				ra.setPosition(x, 0);
				double lum = 0;
				ra.setPosition(0, 2);
				lum += RED * ra.get().get();
				ra.setPosition(1, 2);
				lum += GREEN * ra.get().get();
				ra.setPosition(2, 2);
				lum += BLUE * ra.get().get();
				double v = range[0] + Math.min(1, Math.max(0, lum)) * width;
				if (a < 1f) v = original.getf(i) * (1 - a) + v * a;
				if (integer) out.set(i, (int) Math.max(0, Math.min(maxValue, Math.round(v))));
				else out.setf(i, (float) v);
			}
		}
		return out;
	}

	/**
	 * The result window for processors in stack order (channels fastest): the input's type, calibration, LUTs and
	 * display ranges; a composite of the same mode when each channel was run.
	 */
	static ImagePlus toImagePlus(String title, ImagePlus input, List<ImageProcessor> slices, int channels,
		int slicesPerFrame, int frames) {
		ImageStack stack = new ImageStack(input.getWidth(), input.getHeight());
		for (ImageProcessor ip : slices)
			stack.addSlice(ip);
		ImagePlus imp = new ImagePlus(title, stack);
		imp.setDimensions(channels, slicesPerFrame, frames);
		if (channels > 1) {
			CompositeImage in = (CompositeImage) input;
			CompositeImage ci = new CompositeImage(imp, in.getMode());
			ci.setLuts(in.getLuts()); // each LUT carries its channel's display range
			imp = ci;
		}
		else {
			int channel = input.isComposite() ? input.convertIndexToPosition(input.getCurrentSlice())[0] : 1;
			double[] range = displayRange(input, channel);
			LUT lut = input.isComposite() ? ((CompositeImage) input).getChannelLut(channel) : input.getProcessor().getLut();
			imp.getProcessor().setLut(lut);
			stack.setColorModel(lut);
			imp.setDisplayRange(range[0], range[1]);
		}
		imp.setCalibration(input.getCalibration().copy());
		return imp;
	}

	/** The input's spatial calibration for an RGB result (no density calibration: RGB values are not the input's). */
	static Calibration spatialCalibration(ImagePlus input) {
		Calibration cal = input.getCalibration().copy();
		cal.disableDensityCalibration();
		return cal;
	}
}
