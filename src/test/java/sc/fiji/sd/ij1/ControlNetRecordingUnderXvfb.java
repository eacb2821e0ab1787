package sc.fiji.sd.ij1;

import java.awt.Choice;
import java.awt.EventQueue;
import java.awt.TextField;
import java.awt.event.ActionEvent;
import java.util.Arrays;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.GenericDialog;
import ij.gui.OvalRoi;
import ij.plugin.frame.Recorder;
import ij.process.ByteProcessor;
import sc.fiji.sd.imagej.Settings;

/**
 * Records an interactive Text to Image run whose control image is the selection of an open image, then replays the
 * recorded line on that image (run by {@link ControlNetRecordingTest} in a JVM of its own under Xvfb). The "user"
 * draws an oval on "specimen", opens Text to Image, picks {@code selection} in the Control drop-down, types the
 * ControlNet's folder and clicks OK. Prints RECORDED, TITLE, SELECTION and IDENTICAL lines.
 *
 * @see RecordingUnderXvfb the same without ControlNet
 */
public final class ControlNetRecordingUnderXvfb {

	/** Arguments: the base model folder (with controlnet/model.onnx), the ControlNet folder. */
	public static void main(String[] args) throws Exception {
		new Settings(args[0], "cpu", 0).save();
		ImagePlus specimen = new ImagePlus("specimen", new ByteProcessor(64, 64));
		specimen.show();
		specimen.setRoi(new OvalRoi(12, 20, 36, 24));
		IJ.wait(500);
		Recorder recorder = new Recorder(false);
		Thread user = RecordingUnderXvfb.startRecordedTextToImage();
		GenericDialog gd = RecordingUnderXvfb.waitForDialog();
		// fields found by their labels, not their positions (a field added to the dialog moves the others)
		DialogFields.after(gd, "Prompt", TextField.class).setText("a red circle");
		DialogFields.after(gd, "ControlNet", TextField.class).setText(args[1]); // the ControlNet folder
		DialogFields.after(gd, "Steps", TextField.class).setText("2");
		DialogFields.after(gd, "Width", TextField.class).setText("64");
		DialogFields.after(gd, "Height", TextField.class).setText("64");
		Choice control = DialogFields.after(gd, "Control (ControlNet image)", Choice.class);
		EventQueue.invokeAndWait(() -> {
			control.select("selection");
			gd.actionPerformed(new ActionEvent(gd.getButtons()[0], ActionEvent.ACTION_PERFORMED, "OK"));
		});
		user.join(120_000);
		ImagePlus first = WindowManager.getCurrentImage();
		String recorded = recorder.getText();
		System.out.println("RECORDED " + recorded.strip());
		System.out.println("TITLE " + (first == null ? null : first.getTitle()));
		System.out.println("SELECTION " + (specimen.getRoi() == null ? null : specimen.getRoi().getBounds()));

		String options = RecordingUnderXvfb.recordedOptions(recorded);
		if (options == null) {
			System.out.println("IDENTICAL no recorded line");
			System.exit(0);
		}
		ImagePlus second = RecordingUnderXvfb.replay(options, () -> {
			IJ.selectWindow("specimen"); // as a recorded selectImage("specimen") would, before the line
			IJ.wait(500);
		});
		boolean identical = second != null && second != first && second != specimen && Arrays.equals((int[]) first
			.getProcessor().getPixels(), (int[]) second.getProcessor().getPixels());
		System.out.println("IDENTICAL " + identical + " (" + (second == null ? null : second.getTitle()) + ")");
		System.exit(0);
	}
}
