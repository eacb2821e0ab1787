package sc.fiji.sd.ij1;

import java.awt.EventQueue;
import java.awt.TextField;
import java.awt.event.ActionEvent;
import java.util.Vector;

import ij.IJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.GenericDialog;
import ij.plugin.frame.Recorder;
import sc.fiji.sd.imagej.Settings;

/**
 * Records an interactive Text to Image run in which the "user" changes two fields of the settings table (the last
 * fields of the dialog: original_size, a text, and aesthetic_score, a number), then replays the recorded line (run by
 * {@link SettingsRecordingTest} under Xvfb). Prints RECORDED, REPLAYED (the replay's parameters) and IDENTICAL lines.
 */
public final class SettingsRecordingUnderXvfb {

	public static void main(String[] args) throws Exception {
		new Settings(args[0], "cpu", 0).save();
		Recorder recorder = new Recorder(false);
		Thread user = RecordingUnderXvfb.startRecordedTextToImage();
		GenericDialog gd = RecordingUnderXvfb.waitForDialog();
		@SuppressWarnings("unchecked")
		var strings = (Vector<TextField>) gd.getStringFields();
		strings.get(0).setText("a red circle");
		strings.get(strings.size() - 2).setText("96x80"); // original_size (then crop)
		@SuppressWarnings("unchecked")
		var numbers = (Vector<TextField>) gd.getNumericFields();
		numbers.get(0).setText("2"); // steps
		numbers.get(5).setText("64"); // width
		numbers.get(6).setText("64"); // height
		numbers.get(numbers.size() - 2).setText("9"); // aesthetic_score (then negative_aesthetic)
		EventQueue.invokeAndWait(() -> gd.actionPerformed(new ActionEvent(gd.getButtons()[0],
			ActionEvent.ACTION_PERFORMED, "OK")));
		user.join(120_000);
		ImagePlus first = WindowManager.getCurrentImage();
		String recorded = recorder.getText();
		System.out.println("RECORDED " + recorded.strip());
		String options = RecordingUnderXvfb.recordedOptions(recorded);
		ImagePlus second = options == null ? null : RecordingUnderXvfb.replay(options, () -> {});
		System.out.println("REPLAYED " + (second == null ? null : String.valueOf(second.getProperty("parameters"))
			.replace('\n', ' ')));
		System.out.println("IDENTICAL " + (second != null && second != first && java.util.Arrays.equals((int[]) first
			.getProcessor().getPixels(), (int[]) second.getProcessor().getPixels())));
		IJ.log("done");
		System.exit(0);
	}
}
