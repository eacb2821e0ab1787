package sc.fiji.sd.imagej;

import ij.CompositeImage;
import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Roi;
import ij.gui.ShapeRoi;
import ij.process.ByteProcessor;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import sc.fiji.sd.image.Outpainting;
import sc.fiji.sd.image.Outpainting.Sides;

/**
 * Outpaint in ImageJ: the input on a larger canvas of its own type (every slice and channel), the new area filled by
 * edge replication (see {@link Outpainting}) and selected. Inpainting that canvas repaints the new area only and
 * keeps the original pixels, in any output type, through the same code as Inpaint. The input is only read.
 */
final class OutpaintCanvas {

	private OutpaintCanvas() {}

	static ImagePlus extend(ImagePlus input, Sides s) {
		int w = input.getWidth(), h = input.getHeight();
		int cw = w + s.left() + s.right(), ch = h + s.top() + s.bottom();
		ImageStack in = input.getStack(), out = new ImageStack(cw, ch);
		for (int i = 1; i <= in.getSize(); i++)
			out.addSlice(in.getSliceLabel(i), extend(in.getProcessor(i), s, cw, ch));
		ImagePlus canvas = input.createImagePlus(); // calibration and properties
		canvas.setStack(input.getTitle(), out);
		canvas.setDimensions(input.getNChannels(), input.getNSlices(), input.getNFrames());
		if (input.isComposite()) {
			CompositeImage ci = new CompositeImage(canvas, ((CompositeImage) input).getMode());
			ci.setLuts(((CompositeImage) input).getLuts());
			canvas = ci;
		}
		else if (input.getType() != ImagePlus.COLOR_RGB) {
			canvas.getProcessor().setLut(input.getProcessor().getLut());
			out.setColorModel(input.getProcessor().getLut());
			canvas.setDisplayRange(input.getDisplayRangeMin(), input.getDisplayRangeMax());
		}
		canvas.setCalibration(input.getCalibration().copy());
		int[] czt = input.convertIndexToPosition(input.getCurrentSlice());
		canvas.setPositionWithoutUpdate(czt[0], czt[1], czt[2]);
		ShapeRoi area = new ShapeRoi(new Roi(0, 0, cw, ch)).not(new ShapeRoi(new Roi(s.left(), s.top(), w, h)));
		canvas.setRoi(area);
		return canvas;
	}

	/**
	 * The input's selection where it lies on the larger canvas (moved by the left and top sides; a part outside the
	 * input but inside the canvas counts), on a blank image of the canvas's size with the input's title: what
	 * {@code control=[selection]} of Outpaint reads. Without a selection, none (the control's check says so).
	 */
	static ImagePlus selectionOnCanvas(ImagePlus input, Sides s) {
		ImagePlus canvas = new ImagePlus(input.getTitle(), new ByteProcessor(input.getWidth() + s.left() + s.right(),
			input.getHeight() + s.top() + s.bottom()));
		Roi roi = input.getRoi();
		if (roi != null) {
			Roi moved = (Roi) roi.clone();
			moved.setLocation(roi.getXBase() + s.left(), roi.getYBase() + s.top());
			canvas.setRoi(moved, false);
		}
		return canvas;
	}

	/** One slice on the larger canvas; the new pixels repeat the nearest edge pixel (values copied, not converted). */
	private static ImageProcessor extend(ImageProcessor ip, Sides s, int cw, int ch) {
		ImageProcessor out = ip.createProcessor(cw, ch);
		boolean floats = ip instanceof FloatProcessor;
		int w = ip.getWidth(), h = ip.getHeight();
		for (int y = 0; y < ch; y++) {
			int sy = Outpainting.clamp(y - s.top(), h);
			for (int x = 0; x < cw; x++) {
				int sx = Outpainting.clamp(x - s.left(), w);
				if (floats) out.setf(x, y, ip.getf(sx, sy));
				else out.set(x, y, ip.get(sx, sy));
			}
		}
		return out;
	}
}
